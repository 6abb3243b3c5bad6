import { describe, expect, it } from 'vitest';
import { MAX_RETRY_AFTER_MS, retryAfterMs } from '../src/index.ts';

describe('retryAfterMs', () => {
  it('reads delta-seconds and HTTP dates', () => {
    expect(retryAfterMs('3')).toBe(3000);
    expect(retryAfterMs(' 0 ')).toBe(0);
    expect(retryAfterMs('1.5')).toBe(1500);
    expect(retryAfterMs('Thu, 01 Jan 2026 00:00:10 GMT', Date.parse('2026-01-01T00:00:00Z'))).toBe(10_000);
  });

  it('caps every wait at one hour and never goes below zero', () => {
    expect(MAX_RETRY_AFTER_MS).toBe(3_600_000);
    expect(retryAfterMs('999999')).toBe(MAX_RETRY_AFTER_MS);
    expect(retryAfterMs('Fri, 01 Jan 2100 00:00:00 GMT', Date.parse('2026-01-01T00:00:00Z'))).toBe(MAX_RETRY_AFTER_MS);
    expect(retryAfterMs('Thu, 01 Jan 2026 00:00:00 GMT', Date.parse('2026-01-01T00:00:10Z'))).toBe(0);
  });

  it('is undefined when absent or unreadable', () => {
    for (const value of [undefined, null, '', '  ', 'soon', '-1', '5x', '1e3']) expect(retryAfterMs(value), String(value)).toBeUndefined();
  });
});
