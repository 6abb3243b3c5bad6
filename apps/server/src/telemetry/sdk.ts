import { createRequire } from 'node:module';
import type { SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { setQueueTelemetry } from '@countersign/queue';
import { bullmqTelemetry } from './bullmq-telemetry.ts';

// Tracing is off unless the standard OpenTelemetry variables ask for it: without them no SDK is
// started, and @opentelemetry/api stays the no-op it is by default (no span is recorded, no
// trace context is stamped on outbox events or jobs, the vote's trace look-up is skipped).
// Traces only: /metrics (Prometheus) stays the metrics, pino the logs.

// The SDK is loaded only when asked for (it costs over a second and ~25 MB to load), and
// synchronously (these packages are CommonJS), so that it is in place before the modules the
// entry point imports next are evaluated.
const requireSdk = createRequire(import.meta.url);


/** Query parameters whose values spans never show (the instrumentation's own list plus OAuth's). */
const SECRET_QUERY_PARAMS = ['code', 'state', 'session_state', 'token', 'access_token', 'id_token', 'refresh_token', 'client_secret', 'sig', 'Signature', 'AWSAccessKeyId', 'X-Goog-Signature'];
export type TelemetryEnv = Record<string, string | undefined>;

/** True when the environment asks for traces to be exported (and the SDK is not disabled). */
export function tracingRequested(env: TelemetryEnv): boolean {
  if ((env.OTEL_SDK_DISABLED ?? '').trim().toLowerCase() === 'true') return false;
  const exporters = (env.OTEL_TRACES_EXPORTER ?? '').split(',').map((e) => e.trim()).filter(Boolean);
  if (exporters.length > 0) return !exporters.includes('none');
  return Boolean(env.OTEL_EXPORTER_OTLP_ENDPOINT || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT);
}

/** Requests that are not worth a trace: probes and scrapes, many a minute. */
const UNTRACED_PATHS = new Set(['/healthz', '/readyz', '/metrics']);
const untraced = (url: string | undefined) => UNTRACED_PATHS.has((url ?? '').split('?')[0] ?? '');

export interface Telemetry {
  /** Flushes what is buffered and stops exporting (call before the process exits). */
  shutdown(): Promise<void>;
}

/**
 * Starts the OpenTelemetry SDK when `env` asks for it (OTEL_TRACES_EXPORTER,
 * OTEL_EXPORTER_OTLP_ENDPOINT, OTEL_SERVICE_NAME, OTEL_SDK_DISABLED, … as the SDK reads them), or
 * always when span processors are given (the tests' in-memory exporter). Undefined when off.
 */
export function startTelemetry(env: TelemetryEnv, opts: { spanProcessors?: SpanProcessor[] } = {}): Telemetry | undefined {
  if (!opts.spanProcessors && !tracingRequested(env)) return undefined;
  const { NodeSDK } = requireSdk('@opentelemetry/sdk-node') as typeof import('@opentelemetry/sdk-node');
  const { HttpInstrumentation } = requireSdk('@opentelemetry/instrumentation-http') as typeof import('@opentelemetry/instrumentation-http');
  const { IORedisInstrumentation } = requireSdk('@opentelemetry/instrumentation-ioredis') as typeof import('@opentelemetry/instrumentation-ioredis');
  const { PgInstrumentation } = requireSdk('@opentelemetry/instrumentation-pg') as typeof import('@opentelemetry/instrumentation-pg');
  const { FastifyOtelInstrumentation } = requireSdk('@fastify/otel') as typeof import('@fastify/otel');
  // Fastify's own spans (request, hooks, handler) under the HTTP server span. Its plugin is
  // registered through Fastify's `fastify.initialization` diagnostics channel on every instance
  // made from now on, so the app needs no code of its own and has no plugin while tracing is
  // off. Probe routes are left unwrapped (their requests are untraced by the HTTP span anyway).
  const fastify = new FastifyOtelInstrumentation({
    registerOnInitialization: true,
    ignorePaths: (route) => untraced(route.url),
    // Its request span records the raw URL as url.path, query string included (the console's
    // sign-in callback carries the IdP's code there): the path alone, like the HTTP span's.
    requestHook: (span, request) => span.setAttribute('url.path', request.url.split('?')[0]!),
  });
  const sdk = new NodeSDK({
    serviceName: env.OTEL_SERVICE_NAME || 'countersign',
    ...(opts.spanProcessors ? { spanProcessors: opts.spanProcessors } : {}),
    // Traces only (the SDK would otherwise also push metrics and logs to the OTLP endpoint).
    metricReaders: [],
    logRecordProcessors: [],
    instrumentations: [
      new HttpInstrumentation({
        ignoreIncomingRequestHook: (req) => untraced(req.url),
        // The console's sign-in callback carries the IdP's authorization code and state in its
        // query string: never into a span (nor tokens, should a client send one there).
        redactedQueryParamsServer: SECRET_QUERY_PARAMS,
        redactedQueryParams: SECRET_QUERY_PARAMS,
      }),
      fastify,
      // Only inside a trace of ours: BullMQ's and the outbox poller's own round trips would
      // otherwise each be a trace of one span.
      new PgInstrumentation({ requireParentSpan: true }),
      new IORedisInstrumentation({ requireParentSpan: true }),
    ],
  });
  sdk.start();
  // The pg and ioredis instrumentations patch through the require hook, which an ES `import` of
  // these CommonJS packages does not pass, and which misses them when they were loaded before
  // this ran (the tests, an entry point without `--import`): requiring them once here patches
  // their classes in place, for every importer.
  for (const name of ['pg', 'ioredis']) requireSdk(name);
  // BullMQ has no instrumentation to patch it: its spans come through its `telemetry` option,
  // which every queue and worker made from now on gets.
  setQueueTelemetry(bullmqTelemetry());
  return {
    shutdown: () => {
      setQueueTelemetry(undefined);
      fastify.disable();
      return sdk.shutdown();
    },
  };
}
