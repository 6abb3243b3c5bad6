import type { FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';
import { PROBLEM_CONTENT_TYPE, RETRY_AFTER_SECONDS, problemType, titleFor } from './problem.ts';
import { unavailableReason } from './unavailable.ts';

// Liveness says "this process can answer"; readiness says "and it can reach what a decision
// needs" (Postgres, Redis). An orchestrator restarts on the first and stops routing on the second.

export interface ReadinessCheck {
  /** Short, stable name shown in /readyz output, e.g. "db", "redis". */
  name: string;
  /** Resolves when the dependency answers; rejects (or hangs past the timeout) when not. */
  check(): Promise<void>;
}

export interface HealthRoutesOptions {
  checks: readonly ReadinessCheck[];
  /** Per-check limit; a hanging dependency must not hang the probe. Default 2000 ms. */
  checkTimeoutMs?: number;
  registry: Registry;
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

  app.get('/healthz', async (_request, reply) => {
    return reply.header('cache-control', 'no-store').send({ status: 'ok' });
  });

  app.get('/readyz', async (request, reply) => {
    const outcomes = await Promise.all(opts.checks.map(async (c) => [c.name, await runCheck(c, timeoutMs)] as const));
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

  app.get('/metrics', async (_request, reply) => {
    const text = await opts.registry.metrics();
    return reply.header('cache-control', 'no-store').type(opts.registry.contentType).send(text);
  });
}
