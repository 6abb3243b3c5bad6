import { context, propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Attributes, type Context, type Link } from '@opentelemetry/api';
import type { TraceContext } from '@countersign/contracts';
import type { Telemetry } from 'bullmq';

// Trace context across the outbox and the queue, with OpenTelemetry's API only: without an SDK
// started (the default) every call here is the API's no-op — nothing is stamped on a payload,
// no span is recorded. The SDK is started, or not, by the server (apps/server/src/telemetry).

export const TRACER_NAME = 'countersign';

export function tracer() {
  return trace.getTracer(TRACER_NAME);
}

// BullMQ's own spans (its `telemetry` option: add, process, …), handed over by the server when
// tracing is on; process-wide like OpenTelemetry's own provider, so every queue and worker made
// afterwards has them, and none has them (not even the option's checks) while tracing is off.
let bullmqTelemetry: Telemetry | undefined;

/** Sets (or, with undefined, clears) the telemetry every Queue and Worker made from now on gets. */
export function setQueueTelemetry(telemetry: Telemetry | undefined): void {
  bullmqTelemetry = telemetry;
}

/** BullMQ options carrying the telemetry, if any (spread into Queue and Worker options). */
export function queueTelemetryOption(): { telemetry?: Telemetry } {
  return bullmqTelemetry ? { telemetry: bullmqTelemetry } : {};
}

/** The active span's W3C context, or undefined when nothing is being traced. */
export function currentTraceContext(ctx: Context = context.active()): TraceContext | undefined {
  const carrier: Record<string, string> = {};
  propagation.inject(ctx, carrier);
  if (!carrier.traceparent) return undefined;
  return carrier.tracestate ? { traceparent: carrier.traceparent, tracestate: carrier.tracestate } : { traceparent: carrier.traceparent };
}

/** The context a carried trace continues; the root context when there is none. */
export function contextFrom(carried: TraceContext | undefined): Context {
  if (!carried) return ROOT_CONTEXT;
  const carrier: Record<string, string> = { traceparent: carried.traceparent, ...(carried.tracestate ? { tracestate: carried.tracestate } : {}) };
  return propagation.extract(ROOT_CONTEXT, carrier);
}

/** A link to the span a traceparent names (invalid ones are dropped by the SDK). */
export function linkTo(traceparent: string | undefined): Link[] {
  if (!traceparent) return [];
  const span = trace.getSpanContext(propagation.extract(ROOT_CONTEXT, { traceparent }));
  return span ? [{ context: span }] : [];
}

/** Errors that end a run without failing it (a deferred job) are not marked as span errors. */
export type IsExpected = (err: unknown) => boolean;

/**
 * Runs `fn` in a new span that continues `carried` (and links to what caused it), ending it
 * with the outcome. Without a carried context the span starts a trace of its own.
 */
export function inCarriedTrace<T>(
  carried: TraceContext | undefined,
  name: string,
  opts: {
    kind?: SpanKind;
    attributes?: Attributes;
    expected?: IsExpected;
    /**
     * Hang under the active span when it is already in the carried trace (BullMQ's consumer span
     * around a job, when its telemetry is on), so the library's spans stay on the path.
     */
    underActive?: boolean;
  },
  fn: () => Promise<T>,
): Promise<T> {
  const parent = opts.underActive && inTrace(context.active(), carried) ? context.active() : contextFrom(carried);
  return tracer().startActiveSpan(name, { kind: opts.kind ?? SpanKind.INTERNAL, attributes: opts.attributes, links: linkTo(carried?.link) }, parent, async (span) => {
    try {
      return await fn();
    } catch (err) {
      if (!opts.expected?.(err)) {
        span.recordException(err as Error);
        span.setStatus({ code: SpanStatusCode.ERROR, message: (err as Error).message });
      }
      throw err;
    } finally {
      span.end();
    }
  });
}


function inTrace(ctx: Context, carried: TraceContext | undefined): boolean {
  const active = trace.getSpanContext(ctx);
  return Boolean(carried && active && carried.traceparent.split('-')[1] === active.traceId);
}

export { SpanKind };
