import type { FastifyInstance } from 'fastify';
import { Gauge, type Registry } from 'prom-client';
import { metricsAuthorized, sendMetricsUnauthorized } from './metrics-access.ts';
import { PROBLEM_CONTENT_TYPE, RETRY_AFTER_SECONDS, problemType, titleFor } from './problem.ts';
import { unavailableReason } from './unavailable.ts';

// Liveness says "this process can answer"; readiness says "and it can do its job": decide
// (Postgres, the system of record). Redis is not needed to decide — jobs are rebuilt from
// Postgres once it is back — so on an API process a Redis outage must not make the load
// balancer stop routing: that would turn a survivable outage into a full one. Checks marked
// `required: false` are reported, never decisive: in /healthz's detail and in the
// countersign_dependency_up gauge.

export interface ReadinessCheck {
  /** Short, stable name shown in /readyz output, e.g. "db", "redis". */
  name: string;
  /** Resolves when the dependency answers; rejects (or hangs past the timeout) when not. */
  check(): Promise<void>;
  /** Whether readiness depends on it (default true). False: reported in /healthz and metrics only. */
  required?: boolean;
}

export interface HealthRoutesOptions {
  checks: readonly ReadinessCheck[];
  /** Per-check limit; a hanging dependency must not hang the probe. Default 2000 ms. */
  checkTimeoutMs?: number;
  registry: Registry;
  /**
   * /metrics on this app: `token` makes it require `Authorization: Bearer <token>`;
   * `separatePort` leaves it off this app (it is served on its own port, metrics-server.ts).
   */
  metrics?: { token?: string; separatePort?: boolean };
}

export const DEFAULT_CHECK_TIMEOUT_MS = 2000;

/** Polled every few seconds by orchestrators and scrapers: their request lines are noise. */
export const PROBE_PATHS: ReadonlySet<string> = new Set(['/healthz', '/readyz', '/metrics']);

export function isProbeRequest(request: { method: string; url: string }): boolean {
  return request.method === 'GET' && PROBE_PATHS.has(request.url.split('?')[0] ?? '');
}

type CheckOutcome = { ok: true } | { ok: false; reason: string; err?: unknown };

class CheckTimeout extends Error {
  constructor(readonly ms: number) {
    super(`timed out after ${ms} ms`);
  }
}

async function runCheck(check: ReadinessCheck, timeoutMs: number): Promise<CheckOutcome> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new CheckTimeout(timeoutMs)), timeoutMs);
  });
  try {
    await Promise.race([Promise.resolve().then(() => check.check()), timeout]);
    return { ok: true };
  } catch (err) {
    if (err instanceof CheckTimeout) return { ok: false, reason: err.message };
    // Only a code (ECONNREFUSED, 57P01, DatabaseNotReachable…) leaves the process: raw
    // messages can name hosts, users or connection strings.
    const code = unavailableReason(err);
    return { ok: false, reason: code ? `unavailable (${code})` : 'check failed', err };
  } finally {
    clearTimeout(timer);
  }
}

export function registerHealthRoutes(app: FastifyInstance, opts: HealthRoutesOptions): void {
  const timeoutMs = opts.checkTimeoutMs ?? DEFAULT_CHECK_TIMEOUT_MS;
  const required = opts.checks.filter((c) => c.required !== false);
  const informational = opts.checks.filter((c) => c.required === false);

  // 1 when the dependency answered its last check, 0 when not; every check runs at scrape time.
  // Once per registry: a second app on the same registry (tests) keeps the first one's gauge.
  if (opts.registry.getSingleMetric('countersign_dependency_up') === undefined) new Gauge({
    name: 'countersign_dependency_up',
    help: 'Whether this process reaches a dependency (1) or not (0), checked at scrape time; `required` says whether readiness depends on it.',
    labelNames: ['dependency', 'required'] as const,
    registers: [opts.registry],
    async collect() {
      const outcomes = await Promise.all(opts.checks.map(async (c) => [c, await runCheck(c, timeoutMs)] as const));
      this.reset();
      for (const [c, outcome] of outcomes) this.set({ dependency: c.name, required: String(c.required !== false) }, outcome.ok ? 1 : 0);
    },
  });

  // Always 200 while the process answers (an orchestrator restarts it otherwise); the detail
  // names the optional dependencies' state, so an operator sees a Redis outage at a glance.
  app.get('/healthz', async (_request, reply) => {
    const outcomes = await Promise.all(informational.map(async (c) => [c.name, await runCheck(c, timeoutMs)] as const));
    const dependencies = Object.fromEntries(outcomes.map(([name, outcome]) => [name, outcome.ok ? 'ok' : outcome.reason]));
    const degraded = outcomes.some(([, outcome]) => !outcome.ok);
    return reply.header('cache-control', 'no-store').send({ status: degraded ? 'degraded' : 'ok', dependencies });
  });

  app.get('/readyz', async (request, reply) => {
    const outcomes = await Promise.all(required.map(async (c) => [c.name, await runCheck(c, timeoutMs)] as const));
    const checks: Record<string, string> = {};
    const failed: string[] = [];
    for (const [name, outcome] of outcomes) {
      checks[name] = outcome.ok ? 'ok' : outcome.reason;
      if (!outcome.ok) {
        failed.push(name);
        request.log.warn({ check: name, reason: outcome.reason, err: outcome.err }, 'readiness check failed');
      }
    }
    reply.header('cache-control', 'no-store');
    if (failed.length === 0) return reply.send({ status: 'ready', checks });
    return reply
      .code(503)
      .header('retry-after', String(RETRY_AFTER_SECONDS))
      .type(PROBLEM_CONTENT_TYPE)
      .send({
        type: problemType('unavailable'),
        title: titleFor('unavailable'),
        status: 503,
        detail: `Not ready: ${failed.join(', ')}.`,
        code: 'unavailable',
        requestId: request.id,
        checks,
      });
  });

  if (opts.metrics?.separatePort) return;
  const token = opts.metrics?.token;
  app.get('/metrics', async (request, reply) => {
    if (token !== undefined && !metricsAuthorized(request.headers.authorization, token)) return sendMetricsUnauthorized(reply);
    const text = await opts.registry.metrics();
    return reply.header('cache-control', 'no-store').type(opts.registry.contentType).send(text);
  });
}
