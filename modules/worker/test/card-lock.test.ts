import { afterAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { giveUp, RedisMutex, type JobContext } from '@countersign/queue';
import { withCardLock } from '../src/jobs/card-lock.ts';
import type { WorkerDeps } from '../src/deps.ts';
import { randomQueuePrefix, redisUrlForTests } from '../../../test/support/database.ts';

// The card lock on a real Redis that goes away while the lock is held: its release fails.
// The lease then runs out by itself; the run is not known to have held it (so post-cards
// re-renders), and an error of the run's own (a giveUp: drop the job for good) is the one
// passed on, not the release's (which would make it a retry). Found by review.

const clients: Redis[] = [];
afterAll(() => clients.forEach((c) => c.disconnect()));

async function lockOn(): Promise<{ deps: WorkerDeps; redis: Redis; warned: string[] }> {
  // No offline queue: once disconnected, a command fails at once instead of waiting.
  const redis = new Redis(redisUrlForTests(), { maxRetriesPerRequest: 0, enableOfflineQueue: false, lazyConnect: true });
  clients.push(redis);
  await redis.connect();
  const warned: string[] = [];
  const logger = { warn: (_: unknown, msg: string) => void warned.push(msg), info: () => undefined, error: () => undefined, debug: () => undefined };
  // Only what withCardLock uses of the worker's dependencies.
  return { deps: { mutex: new RedisMutex(redis, randomQueuePrefix()), logger, cardLockMs: 5_000 } as unknown as WorkerDeps, redis, warned };
}

const job = { name: 'post-cards', defer: async () => undefined } as unknown as JobContext;

describe('the card lock when Redis goes away before its release', () => {
  it("passes on the run's own giveUp, not the release's error", async () => {
    const { deps, redis, warned } = await lockOn();
    const err = await withCardLock(deps, 'act_gone', job, async () => {
      redis.disconnect();
      throw giveUp('no action act_gone');
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(giveUp('x').constructor);
    expect(warned).toContain('could not release the card lock; it runs out by itself');
  });

  it("hands back the run's result, as not held to the end", async () => {
    const { deps, redis } = await lockOn();
    const run = await withCardLock(deps, 'act_adopted', job, async () => {
      redis.disconnect();
      return { done: ['adopted'] };
    });
    expect(run).toEqual({ value: { done: ['adopted'] }, heldToEnd: false });
  });

  it('says held to the end when Redis stays', async () => {
    const { deps } = await lockOn();
    expect(await withCardLock(deps, 'act_fine', job, async () => 1)).toEqual({ value: 1, heldToEnd: true });
  });
});
