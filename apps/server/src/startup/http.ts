import type { FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Role } from '@countersign/modules';
import type { Database } from '@countersign/db';
import { buildHttpApp } from '../http/app.ts';
import { startMetricsServer } from '../http/metrics-server.ts';
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
    metrics: {
      ...(settings.COUNTERSIGN_METRICS_TOKEN ? { token: settings.COUNTERSIGN_METRICS_TOKEN } : {}),
      separatePort: settings.COUNTERSIGN_METRICS_PORT !== undefined,
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

/**
 * Listens (and, with COUNTERSIGN_METRICS_PORT, starts /metrics on its own port), then answers
 * the URL the API is reachable at from this host.
 */
export async function listen(app: FastifyInstance, settings: Settings, stops: Stops): Promise<string> {
  if (settings.COUNTERSIGN_METRICS_PORT !== undefined) {
    const metrics = await startMetricsServer({
      host: settings.HOST,
      port: settings.COUNTERSIGN_METRICS_PORT,
      registry: app.metricsRegistry,
      ...(settings.COUNTERSIGN_METRICS_TOKEN ? { token: settings.COUNTERSIGN_METRICS_TOKEN } : {}),
      logger: app.log as unknown as Logger,
    });
    stops.add(() => metrics.close());
  }
  await app.listen({ host: settings.HOST, port: settings.PORT });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : settings.PORT;
  return `http://${settings.HOST}:${port}`;
}
