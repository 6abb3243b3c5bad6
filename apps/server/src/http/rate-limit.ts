import { createHash } from 'node:crypto';
import fastifyRateLimit, { normalizeIP } from '@fastify/rate-limit';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Redis } from 'ioredis';
import { DomainError } from '@countersign/contracts';
import { parseToken } from '@countersign/core';
import { counter } from '../metrics/registered.ts';
import { bearerToken } from './auth.ts';
import { PROBE_PATHS } from './health.ts';

// Request budgets (@fastify/rate-limit), counted in Redis so that every API process spends
// the same budget. Two scopes:
// - a request with a bearer token shaped like an API key spends that token's budget, named by
//   a hash of the whole token (never verified here: limiting must stay cheaper than what it
//   protects). Knowing a key's public prefix does not let anyone spend its budget; a made-up
//   token gets a budget of its own and a 401 from authentication;
// - any other request (the console, JWKS, the API document, malformed credentials) spends the
//   client address's budget. Which address that is depends on COUNTERSIGN_TRUST_PROXY.
// Exempt: the probes (an orchestrator must always see the truth) and the chat webhooks, which
// carry their own signatures and whose senders retry, and disable an app, on errors.
// When Redis fails, requests are served unlimited: Postgres is the system of record and the
// API keeps deciding; a Redis outage must not become an API outage (readiness says the same).

/** Routes no budget applies to (route patterns). */
export const RATE_LIMIT_EXEMPT_ROUTES: ReadonlySet<string> = new Set([...PROBE_PATHS, '/slack/events', '/api/messages']);

export interface RateLimitOptions {
  /** The service's Redis client; the limiter uses a connection of its own, duplicated from it. */
  redis: Redis;
  /** Requests per window per API key; 0: no per-key limit. */
  perKey: number;
  /** Requests per window per client address (requests without an API key); 0: no per-address limit. */
  perAddress: number;
  windowSeconds: number;
}

export type RateLimitScope = 'api_key' | 'client_address';

/**
 * A Redis that answers slowly must cost a request little: the limiter's commands give up after
 * this long and the request is served (as when Redis is down).
 */
export const RATE_LIMIT_REDIS_TIMEOUT_MS = 250;
const NAMESPACE = 'countersign:rate-limit:';

interface Subject {
  scope: RateLimitScope;
  /** The Redis key suffix: `key:<prefix>` or `ip:<address>`. */
  key: string;
  max: number;
}

function subjectOf(request: FastifyRequest, opts: RateLimitOptions): Subject {
  const token = bearerToken(request.headers.authorization);
  const prefix = typeof token === 'string' ? parseToken(token)?.prefix : undefined;
  // The bucket is named by a hash of the whole token, not its public prefix: whoever knows a
  // key's prefix (it is printed in listings) must not be able to spend that key's budget and
  // lock it out. Made-up secrets get buckets of their own, and fail authentication.
  if (prefix) return { scope: 'api_key', key: `key:${createHash('sha256').update(token as string).digest('base64url').slice(0, 22)}`, max: opts.perKey };
  // IPv6 clients are counted per /64, as one host usually holds the whole subnet.
  return { scope: 'client_address', key: `ip:${normalizeIP(request.ip)}`, max: opts.perAddress };
}

/**
 * Adds the budgets to `app` (before it is ready; after its metrics registry is installed, which
 * gets the limiter's counters); closes its Redis connection with the app.
 */
export function installRateLimit(app: FastifyInstance, opts: RateLimitOptions): void {
  if (opts.perKey === 0 && opts.perAddress === 0) return;
  const connection = opts.redis.duplicate({
    lazyConnect: true,
    commandTimeout: RATE_LIMIT_REDIS_TIMEOUT_MS,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
  });
  // The service's own client already reports Redis trouble; this one only keeps reconnecting.
  connection.on('error', () => undefined);
  connection.connect().catch(() => undefined);
  app.addHook('onClose', async () => connection.disconnect());

  const limited = counter(app.metricsRegistry, 'countersign_http_rate_limited_total', 'Requests refused with 429, by budget (api_key, client_address).', ['scope']);
  const skipped = counter(app.metricsRegistry, 'countersign_rate_limit_errors_total', 'Requests served without a budget check because Redis was unreachable or did not answer in time.', []);

  void app.register(fastifyRateLimit, {
    // No route gets the plugin's own hook: the one below covers every request, 404s included.
    global: false,
    redis: connection,
    nameSpace: NAMESPACE,
    timeWindow: opts.windowSeconds * 1000,
    keyGenerator: (request) => subjectOf(request, opts).key,
    max: (request) => subjectOf(request, opts).max,
    // Errors reach the hook below, which serves the request and counts it.
    skipOnError: false,
  });
  let check: ReturnType<FastifyInstance['createRateLimit']> | undefined;
  let failing = false;
  app.addHook('onReady', async () => {
    check = app.createRateLimit();
  });

  app.addHook('onRequest', async (request, reply) => {
    const route = request.routeOptions.url;
    if (route !== undefined && RATE_LIMIT_EXEMPT_ROUTES.has(route)) return;
    const subject = subjectOf(request, opts);
    if (subject.max === 0 || !check) return;
    let result;
    try {
      result = await check(request);
      if (failing) request.log.info('rate limits are checked again (Redis answers)');
      failing = false;
    } catch (err) {
      skipped.inc();
      // Once per outage, not once per request: the counter above has the volume.
      if (!failing) request.log.warn({ err: (err as Error).message }, 'rate limits NOT checked: Redis did not answer; requests are served without limits until it does');
      failing = true;
      return;
    }
    if (result.isAllowed) return;
    const resetSeconds = Math.max(1, result.ttlInSeconds);
    reply.header('x-ratelimit-limit', String(result.max));
    reply.header('x-ratelimit-remaining', String(result.remaining));
    reply.header('x-ratelimit-reset', String(resetSeconds));
    if (!result.isExceeded) return;
    limited.inc({ scope: subject.scope });
    reply.header('retry-after', String(resetSeconds));
    const whose = subject.scope === 'api_key' ? 'this API key' : 'this client address';
    throw new DomainError('rate_limited', `Too many requests for ${whose}: at most ${result.max} every ${opts.windowSeconds} s. Retry after ${resetSeconds} s.`, {
      extra: { scope: subject.scope, limit: result.max, windowSeconds: opts.windowSeconds, retryAfterSeconds: resetSeconds },
    });
  });
}
