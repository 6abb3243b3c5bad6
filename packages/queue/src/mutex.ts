import { pooledRandomBytes } from '@countersign/contracts';
import type { Redis } from 'ioredis';

// Short leases in Redis, for work that must not interleave across processes but may be
// redone (card rendering for one action, one sweeper at a time). Postgres stays the judge of
// anything that must happen once; a lease that expires early only costs a duplicate render.

const RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;

const EXTEND = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0`;

export class RedisMutex {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {}

  private key(name: string): string {
    return `${this.prefix}:lock:${name}`;
  }

  /** A token when acquired (hand it to `release`), null when someone else holds it. */
  async tryAcquire(name: string, ttlMs: number): Promise<string | null> {
    const token = pooledRandomBytes(12).toString('hex');
    const ok = await this.redis.set(this.key(name), token, 'PX', Math.round(ttlMs), 'NX');
    return ok === 'OK' ? token : null;
  }

  /**
   * Releases only our own lease (a lease that ran out may belong to someone else now). True
   * when it was still ours: held from its last renewal to here.
   */
  async release(name: string, token: string): Promise<boolean> {
    return Number(await this.redis.eval(RELEASE, 1, this.key(name), token)) === 1;
  }

  /**
   * Gives our lease `ttlMs` more from now; false when it is no longer ours (it ran out, and
   * someone else may hold it now): work that must not interleave has to assume it did.
   */
  async extend(name: string, token: string, ttlMs: number): Promise<boolean> {
    return Number(await this.redis.eval(EXTEND, 1, this.key(name), token, String(Math.round(ttlMs)))) === 1;
  }

  /** Runs `fn` under the lease, or returns `busy` without running it. */
  async withLock<T>(name: string, ttlMs: number, fn: () => Promise<T>): Promise<{ ran: true; value: T } | { ran: false }> {
    const token = await this.tryAcquire(name, ttlMs);
    if (!token) return { ran: false };
    try {
      return { ran: true, value: await fn() };
    } finally {
      await this.release(name, token);
    }
  }
}
