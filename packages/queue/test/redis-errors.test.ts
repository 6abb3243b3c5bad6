import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { redisUnavailableReason } from '../src/redis-errors.ts';
import { freePort } from '@countersign/devstack';

describe('redisUnavailableReason', () => {
  it('recognises what ioredis raises when Redis is unreachable', async () => {
    const port = await freePort();
    // As the server connects: no offline queue, one retry per command, no reconnecting here.
    const redis = new Redis({ host: '127.0.0.1', port, lazyConnect: true, maxRetriesPerRequest: 1, enableOfflineQueue: false, retryStrategy: () => null });
    const events: unknown[] = [];
    redis.on('error', (err) => events.push(err));
    try {
      const connect = await redis.connect().catch((e: unknown) => e);
      expect(redisUnavailableReason(connect), (connect as Error).message).toBeDefined();
      expect(events.map(redisUnavailableReason)).toContain('ECONNREFUSED');
      const command = await redis.ping().catch((e: unknown) => e);
      expect(command).toBeInstanceOf(Error);
      expect(redisUnavailableReason(command), (command as Error).message).toBeDefined();
    } finally {
      redis.disconnect();
    }
    expect(redisUnavailableReason(Object.assign(new Error('Reached the max retries per request limit'), { name: 'MaxRetriesPerRequestError' }))).toBe('MaxRetriesPerRequestError');
  });

  it('does not call other errors transient', () => {
    expect(redisUnavailableReason(new Error('WRONGTYPE Operation against a key holding the wrong kind of value'))).toBeUndefined();
    expect(redisUnavailableReason(null)).toBeUndefined();
  });
});
