import net from 'node:net';
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { redisUnavailableReason } from '../src/redis-errors.ts';

/** A TCP port nothing listens on: bound, then released. */
async function closedPort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const { port } = srv.address() as net.AddressInfo;
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  return port;
}

describe('redisUnavailableReason', () => {
  it('recognises what ioredis raises when Redis is unreachable', async () => {
    const port = await closedPort();
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
