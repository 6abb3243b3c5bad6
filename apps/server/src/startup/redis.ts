import { Redis } from 'ioredis';
import { firstLine, StartupError } from './startup-error.ts';
import type { Logger } from 'pino';
import type { Settings } from '../settings.ts';
import type { Stops } from './stops.ts';

/** Redis for the queue: fails fast per command (no offline queue) so Postgres stays the one that decides. */
export async function connectRedis(settings: Settings, logger: Logger, stops: Stops): Promise<Redis> {
  const redis = new Redis(settings.REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1, enableOfflineQueue: false });
  redis.on('error', (err: Error) => logger.warn({ err: err.message }, 'redis connection problem'));
  await redis.connect().catch((err: Error) => {
    // A Redis it cannot reach at start stops it, naming the variable (ioredis says only "Connection is closed.").
    redis.disconnect();
    throw new StartupError(`cannot reach Redis at REDIS_URL: ${firstLine(err.message)}`);
  });
  stops.add(async () => redis.disconnect());
  return redis;
}
