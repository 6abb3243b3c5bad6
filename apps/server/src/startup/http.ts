import type { FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Role } from '@countersign/modules';
import type { Database } from '@countersign/db';
import { buildHttpApp } from '../http/app.ts';
import type { Settings } from '../settings.ts';
import type { Stops } from './stops.ts';

/** The HTTP app with its readiness checks (routes come next, listening last). */
export function buildApp(deps: { settings: Settings; logger: Logger; role: Role; db: Database; redis: Redis; registry: Registry; stops: Stops }): FastifyInstance {
  const { settings, db, redis } = deps;
  const app = buildHttpApp({
    logger: deps.logger,
    bodyLimit: settings.COUNTERSIGN_BODY_LIMIT_BYTES,
    registry: deps.registry,
    trustProxy: settings.COUNTERSIGN_TRUST_PROXY,
    rateLimit: {
      redis,
      perKey: settings.COUNTERSIGN_RATE_LIMIT_PER_KEY,
      perAddress: settings.COUNTERSIGN_RATE_LIMIT_PER_IP,
      windowSeconds: settings.COUNTERSIGN_RATE_LIMIT_WINDOW_SECONDS,
    },
    readinessChecks: [
      { name: 'db', check: () => db.ping() },
      // Deciding needs only Postgres; a worker process cannot work without Redis.
      { name: 'redis', check: async () => void (await redis.ping()), required: deps.role === 'worker' },
    ],
  });
  deps.stops.add(() => app.close());
  return app;
}

/** Listens, then answers the URL it is reachable at from this host. */
export async function listen(app: FastifyInstance, settings: Settings): Promise<string> {
  await app.listen({ host: settings.HOST, port: settings.PORT });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : settings.PORT;
  return `http://${settings.HOST}:${port}`;
}
