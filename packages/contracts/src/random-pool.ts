import { randomFillSync } from 'node:crypto';

// Random bytes for identifiers (ids, request ids, token ids, lock tokens), drawn from a pool.
// Each `randomBytes` call is a getrandom() syscall, which on the VMs this runs on costs ~18 µs:
// a gate request took three of them. The pool asks the kernel once per 8 KiB, as Node's own
// `randomUUID` does with its cache. Long-lived secrets (API keys, session tokens) still come
// straight from `randomBytes`: they are rare, and then never sit in a shared buffer.
const POOL_SIZE = 8192;
const pool = Buffer.allocUnsafeSlow(POOL_SIZE);
let offset = POOL_SIZE;

/** `n` fresh bytes (a copy: the caller may keep them). */
export function pooledRandomBytes(n: number): Buffer {
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError('pooledRandomBytes: n must be a non-negative integer');
  if (n > POOL_SIZE / 4) return randomFillSync(Buffer.allocUnsafe(n));
  if (offset + n > POOL_SIZE) {
    randomFillSync(pool);
    offset = 0;
  }
  const out = Buffer.from(pool.subarray(offset, offset + n));
  // Handed-out bytes are wiped so nothing in the pool is ever given twice or lingers.
  pool.fill(0, offset, offset + n);
  offset += n;
  return out;
}
