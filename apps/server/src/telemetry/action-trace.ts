import { context, createContextKey, type Context } from '@opentelemetry/api';
import { TraceContextSchema, type TraceContext } from '@countersign/contracts';
import { currentTraceContext } from '@countersign/queue';

// "The action's trace": the trace its submission started. Everything that happens to the action
// later (cards posted, reminders, expiry, the card updates after each vote) continues it, so one
// trace shows the action's whole life; a vote, cancel or override arrives in a request of its
// own (its own trace) and links to the action's.

const ACTION_TRACE = createContextKey('countersign.action-trace');

/** A context in which events are written into `actionTrace` (see stampedTrace). */
export function withActionTrace(ctx: Context, actionTrace: TraceContext): Context {
  return ctx.setValue(ACTION_TRACE, actionTrace);
}

/**
 * The trace context an outbox event written now carries: the action's trace when the change came
 * from another trace (linking back to the span that caused it), the current one otherwise;
 * undefined while nothing is traced.
 */
export function stampedTrace(): TraceContext | undefined {
  const current = currentTraceContext();
  if (!current) return undefined;
  const action = context.active().getValue(ACTION_TRACE) as TraceContext | undefined;
  if (!action || traceIdOf(action) === traceIdOf(current)) return current;
  return { traceparent: action.traceparent, ...(action.tracestate ? { tracestate: action.tracestate } : {}), link: current.traceparent };
}

/** The stored trace context, if it is one (rows written before tracing was on have none). */
export function parseActionTrace(stored: unknown): TraceContext | undefined {
  const parsed = TraceContextSchema.safeParse(stored);
  return parsed.success ? parsed.data : undefined;
}

function traceIdOf(t: TraceContext): string {
  return t.traceparent.split('-')[1] ?? '';
}
