import { describe, expect, it } from 'vitest';
import { pooledRandomBytes, randomId } from '../src/index.ts';

describe('pooled random bytes', () => {
  it('never hands out the same bytes twice, across many pool refills', () => {
    const seen = new Set<string>();
    // 16 bytes × 20,000 = 40 refills of the 8 KiB pool, with sizes that straddle its end.
    for (let i = 0; i < 20_000; i++) {
      const b = pooledRandomBytes(16 + (i % 7));
      expect(b.length).toBe(16 + (i % 7));
      seen.add(b.subarray(0, 16).toString('hex'));
    }
    expect(seen.size).toBe(20_000);
  });

  it('gives copies: changing one leaves the next draw untouched and random', () => {
    const a = pooledRandomBytes(32);
    a.fill(0);
    const b = pooledRandomBytes(32);
    expect(b.equals(Buffer.alloc(32))).toBe(false);
  });

  it('serves sizes larger than the pool directly, and refuses nonsense sizes', () => {
    expect(pooledRandomBytes(10_000).length).toBe(10_000);
    expect(pooledRandomBytes(0).length).toBe(0);
    expect(() => pooledRandomBytes(-1)).toThrow(RangeError);
    expect(() => pooledRandomBytes(1.5)).toThrow(RangeError);
  });

  it('ids stay unique and in their alphabet', () => {
    const ids = new Set(Array.from({ length: 5_000 }, () => randomId('act')));
    expect(ids.size).toBe(5_000);
    for (const id of ids) expect(id).toMatch(/^act_[0-9a-z]{20}$/);
  });
});
