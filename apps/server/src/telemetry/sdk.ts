import { createRequire } from 'node:module';
import type { SpanProcessor } from '@opentelemetry/sdk-trace-base';

// Tracing is off unless the standard OpenTelemetry variables ask for it: without them no SDK is
// started, and @opentelemetry/api stays the no-op it is by default (no span is recorded, no
// trace context is stamped on outbox events or jobs, the vote's trace look-up is skipped).
// Traces only: /metrics (Prometheus) stays the metrics, pino the logs.

// The SDK is loaded only when asked for (it costs over a second and ~25 MB to load), and
// synchronously (these packages are CommonJS), so that it is in place before the modules the
// entry point imports next are evaluated.
const requireSdk = createRequire(import.meta.url);

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
  const sdk = new NodeSDK({
    serviceName: env.OTEL_SERVICE_NAME || 'countersign',
    ...(opts.spanProcessors ? { spanProcessors: opts.spanProcessors } : {}),
    // Traces only (the SDK would otherwise also push metrics and logs to the OTLP endpoint).
    metricReaders: [],
    logRecordProcessors: [],
    instrumentations: [
      new HttpInstrumentation({ ignoreIncomingRequestHook: (req) => UNTRACED_PATHS.has((req.url ?? '').split('?')[0] ?? '') }),
      // Only inside a trace of ours: BullMQ's and the outbox poller's own round trips would
      // otherwise each be a trace of one span.
      new PgInstrumentation({ requireParentSpan: true }),
      new IORedisInstrumentation({ requireParentSpan: true }),
    ],
  });
  sdk.start();
  return { shutdown: () => sdk.shutdown() };
}
