import Fastify, { LogController, type FastifyBaseLogger, type FastifyBodyParser, type FastifyInstance } from 'fastify';
import type { Logger, LoggerOptions } from 'pino';
import type { Registry } from 'prom-client';
import { DomainError } from '@countersign/contracts';
import { bodyLimitIssue, DEFAULT_BODY_LIMITS, jsonBodyText, type BodyLimits } from './body-limits.ts';
import { duplicateKeyIssue } from './body-duplicates.ts';
import { lossyNumberIssue } from './body-numbers.ts';
import { installErrorHandlers, invalidCodeFor, sendFrameworkProblem, writeClientErrorProblem } from './errors.ts';
import { isProbeRequest, registerHealthRoutes, type ReadinessCheck } from './health.ts';
import { REQUEST_ID_HEADER, genReqId } from './logging.ts';
import { createHttpMetrics, installHttpMetrics } from './metrics.ts';
import { installRateLimit, type RateLimitOptions } from './rate-limit.ts';
import { installRouteCatalog } from './route-catalog.ts';

// The HTTP shell every route lives in: JSON in, JSON or problem+json out, a request id on
// everything, metrics on everything. Domain routes are registered on the returned instance.

export const DEFAULT_BODY_LIMIT = 64 * 1024;

/** `application/<anything>+json` (e.g. application/merge-patch+json), parsed like JSON. */
// Fastify tests regex parsers against the full header value, parameters included.
const JSON_SUFFIX_TYPE = /^application\/[a-z0-9!#$&^_.-]+\+json(\s*;.*)?$/i;

export interface HttpAppOptions {
  /** pino options (see loggerOptions) or a ready pino logger. */
  logger: LoggerOptions | Logger;
  /** Largest accepted request body in bytes. Default 64 KiB: intents are small by contract. */
  bodyLimit?: number;
  /** Shape limits for JSON bodies (depth, entries, string length). Default DEFAULT_BODY_LIMITS. */
  bodyLimits?: BodyLimits;
  /**
   * Honour X-Forwarded-* (only behind a proxy you control): true, a hop count, or the proxies'
   * addresses. Decides the client address logs and rate limits see. Default false.
   */
  trustProxy?: boolean | number | string[];
  readinessChecks: readonly ReadinessCheck[];
  /** Per readiness check timeout. Default 2000 ms. */
  readinessTimeoutMs?: number;
  /** Registry /metrics exposes; a fresh one by default. Also available as app.metricsRegistry. */
  registry?: Registry;
  /** Request budgets per API key and client address (rate-limit.ts); none when absent. */
  rateLimit?: RateLimitOptions;
  /** /metrics: a bearer token it requires, or off this app (served on its own port). */
  metrics?: { token?: string; separatePort?: boolean };
}

function isLoggerInstance(logger: LoggerOptions | Logger): logger is Logger {
  return typeof (logger as Partial<Logger>).child === 'function' && typeof (logger as Partial<Logger>).info === 'function';
}

/** A hop count becomes the function Fastify's types ask for (its runtime takes the number too). */
function trustProxyOption(trust: boolean | number | string[]): boolean | string[] | ((address: string, hop: number) => boolean) {
  return typeof trust === 'number' ? (_address, hop) => hop < trust : trust;
}

const POISONING = 'the JSON body holds a "__proto__" or "constructor.prototype" key, which is refused wherever it appears';

/** Whether `text` is JSON at all (only asked of a body the secure parser refused). */
function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

export function buildHttpApp(opts: HttpAppOptions): FastifyInstance {
  const common = {
    bodyLimit: opts.bodyLimit ?? DEFAULT_BODY_LIMIT,
    trustProxy: trustProxyOption(opts.trustProxy ?? false),
    genReqId,
    // Probe request lines are skipped; a failing readiness check still logs its own warning.
    logController: new LogController({ requestIdLogLabel: 'requestId', disableRequestLogging: isProbeRequest }),
    // Secure JSON parsing: a body with __proto__ or constructor.prototype is refused (400).
    onProtoPoisoning: 'error' as const,
    onConstructorPoisoning: 'error' as const,
    // Errors the router raises before any handler (bad URL encoding, an over-long path
    // parameter) and malformed HTTP from the client: problem+json like everything else.
    frameworkErrors: sendFrameworkProblem,
    clientErrorHandler: writeClientErrorProblem,
  };
  // Fastify types the instance by its logger; callers only need the base logger interface.
  const app: FastifyInstance = isLoggerInstance(opts.logger)
    ? (Fastify({ ...common, loggerInstance: opts.logger as FastifyBaseLogger }) as unknown as FastifyInstance)
    : (Fastify({ ...common, logger: opts.logger }) as unknown as FastifyInstance);

  // JSON only. text/plain is a Fastify default we do not want: without a parser, any other
  // body type is refused with 415 before a route sees it. Routes that need another format
  // (Slack's form posts) add a parser inside their own plugin scope.
  app.removeContentTypeParser(['text/plain', 'application/json']);
  const secureJson = app.getDefaultJsonParser('error', 'error');
  // An empty JSON body reaches the route as `undefined`, so a body-less POST (cancel) that
  // still sends Content-Type: application/json works, and a route that needs a body refuses
  // it through its own schema with a field-precise 400.
  // Every parsed body then meets the shape limits (body-limits.ts), and holds only numbers a
  // double gives back exactly (body-numbers.ts), and names no member twice in one object
  // (body-duplicates.ts), before any route sees it.
  const limits = opts.bodyLimits ?? DEFAULT_BODY_LIMITS;
  // Read as bytes and decoded strictly here (jsonBodyText): Fastify's own string reading
  // replaces invalid UTF-8 with U+FFFD and ignores the declared charset.
  const json: FastifyBodyParser<Buffer> = (request, body, done) => {
    if (body.length === 0) return done(null, undefined); // nothing to decode, whatever the charset
    const text = jsonBodyText(body, request.headers['content-type'], invalidCodeFor(request));
    if (text instanceof DomainError) return done(text, undefined);
    if (text.length === 0) return done(null, undefined);
    secureJson(request, text, (err, parsed) => {
      // Fastify reports the secure parser's refusal of a prototype-poisoning key as malformed
      // JSON; valid JSON refused that way is named for what it is.
      if (err) return done(isJson(text) ? new DomainError(invalidCodeFor(request), POISONING) : err, undefined);
      const issue = bodyLimitIssue(parsed, limits) ?? lossyNumberIssue(text) ?? duplicateKeyIssue(text, parsed);
      if (issue) return done(new DomainError(invalidCodeFor(request), 'The request body is outside the accepted limits.', { issues: [issue] }), undefined);
      done(null, parsed);
    });
  };
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, json);
  app.addContentTypeParser(JSON_SUFFIX_TYPE, { parseAs: 'buffer' }, json);

  installRouteCatalog(app);
  app.decorateRequest('auth', null);
  app.addHook('onRequest', async (request, reply) => {
    reply.header(REQUEST_ID_HEADER, request.id);
    reply.header('x-content-type-options', 'nosniff');
  });

  const metrics = createHttpMetrics(opts.registry);
  installHttpMetrics(app, metrics);
  // After the request id (a 429 carries one too), before any body is read.
  if (opts.rateLimit) installRateLimit(app, opts.rateLimit);
  installErrorHandlers(app);
  registerHealthRoutes(app, {
    checks: opts.readinessChecks,
    registry: metrics.registry,
    ...(opts.metrics ? { metrics: opts.metrics } : {}),
    ...(opts.readinessTimeoutMs !== undefined ? { checkTimeoutMs: opts.readinessTimeoutMs } : {}),
  });
  return app;
}
