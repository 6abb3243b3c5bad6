import type { FastifyInstance } from 'fastify';
import { Histogram, Registry, collectDefaultMetrics } from 'prom-client';

// One registry per app, passed around explicitly (no prom-client global), so tests and the
// api/worker roles never collide. Routes register their own counters on `app.metricsRegistry`.

declare module 'fastify' {
  interface FastifyInstance {
    /** The Prometheus registry /metrics exposes; register domain counters here. */
    metricsRegistry: Registry;
  }
}

export const HTTP_DURATION_METRIC = 'http_request_duration_seconds';
/** Long-poll reads wait up to tens of seconds, so the buckets reach 60 s. */
const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
/** Label for requests that matched no route: raw URLs would explode the label cardinality. */
const UNMATCHED_ROUTE = 'unmatched';

export interface HttpMetrics {
  registry: Registry;
  httpDuration: Histogram<'method' | 'route' | 'status_code'>;
}

/** Idempotent per registry: a registry that already has the metrics keeps them. */
export function createHttpMetrics(registry: Registry = new Registry()): HttpMetrics {
  if (registry.getSingleMetric('process_cpu_user_seconds_total') === undefined) {
    collectDefaultMetrics({ register: registry });
  }
  const existing = registry.getSingleMetric(HTTP_DURATION_METRIC);
  const httpDuration =
    existing instanceof Histogram
      ? (existing as Histogram<'method' | 'route' | 'status_code'>)
      : new Histogram({
          name: HTTP_DURATION_METRIC,
          help: 'HTTP request duration in seconds, by method, route pattern and status code.',
          labelNames: ['method', 'route', 'status_code'] as const,
          buckets: DURATION_BUCKETS,
          registers: [registry],
        });
  return { registry, httpDuration };
}

/** Observes every response, labelled by route pattern (`/v1/actions/:id`), never the raw URL. */
export function installHttpMetrics(app: FastifyInstance, metrics: HttpMetrics): void {
  app.decorate('metricsRegistry', metrics.registry);
  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? UNMATCHED_ROUTE;
    metrics.httpDuration.observe(
      { method: request.method, route, status_code: String(reply.statusCode) },
      reply.elapsedTime / 1000,
    );
  });
}
