import { createRequire } from 'node:module';
import { context, ROOT_CONTEXT, trace, type Context } from '@opentelemetry/api';
import type { setQueueTelemetry } from '@countersign/queue';

// BullMQ's own spans (add, process, complete, …) through its `telemetry` option and bullmq-otel,
// BullMQ's OpenTelemetry add-on: the producer span carries the trace into the job (BullMQ
// stores it with the job), the consumer span continues it around the job's run.

// Loaded only when tracing is on (see sdk.ts).
const requireAddOn = createRequire(import.meta.url);

/** BullMQ's Telemetry interface, as the queue package takes it. */
type BullmqTelemetry = NonNullable<Parameters<typeof setQueueTelemetry>[0]>;
type BullmqSpan = ReturnType<BullmqTelemetry['tracer']['startSpan']>;

/** The instrumentation scope BullMQ's spans are recorded under. */
export const BULLMQ_TRACER = 'bullmq';

/** A span that records nothing and leaves the context as it is. */
const UNRECORDED: BullmqSpan = {
  setSpanOnContext: (ctx: Context) => ctx,
  setAttribute() {},
  setAttributes() {},
  addEvent() {},
  recordException() {},
  end() {},
};

/**
 * BullMQ telemetry that records a span only inside a trace of ours, like the pg and ioredis
 * instrumentations (requireParentSpan): each worker's lock renewals, stalled checks and empty
 * polls would otherwise be a trace of one span every few seconds.
 */
export function bullmqTelemetry(): BullmqTelemetry {
  const { BullMQOtel } = requireAddOn('bullmq-otel') as typeof import('bullmq-otel');
  const otel = new BullMQOtel({ tracerName: BULLMQ_TRACER });
  return {
    tracer: {
      startSpan: (name, options, parent?: Context) => (trace.getSpan(parent ?? context.active()) ? otel.tracer.startSpan(name, options, parent) : UNRECORDED),
    },
    contextManager: {
      with: (ctx: Context, fn) => otel.contextManager.with(ctx, fn),
      active: () => otel.contextManager.active(),
      // BullMQ runs its never-ending loops (the stalled-jobs check) detached from whatever
      // context started them; bullmq-otel does not offer this yet.
      root: () => ROOT_CONTEXT,
      getMetadata: (ctx: Context) => otel.contextManager.getMetadata(ctx),
      fromMetadata: (active: Context, metadata) => otel.contextManager.fromMetadata(active, metadata),
    },
  };
}
