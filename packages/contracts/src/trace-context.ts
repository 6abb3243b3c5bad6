import { z } from 'zod';

// Where a piece of work sits in a distributed trace, carried across the outbox and the queue
// (OpenTelemetry's W3C Trace Context, https://www.w3.org/TR/trace-context/). Plain data: the
// engine and the contracts never import a tracing library; the server stamps it, the worker
// reads it. Absent whenever tracing is off.

const TRACEPARENT = /^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/;
const Traceparent = z.string().regex(TRACEPARENT, 'a W3C traceparent');

export const TraceContextSchema = z.strictObject({
  /** The span this work continues (the action's trace). */
  traceparent: Traceparent,
  tracestate: z.string().max(512).optional(),
  /**
   * A span in another trace that caused this work (the vote whose card update this is): linked,
   * not parented, so the action keeps one trace while each vote keeps its own request's.
   */
  link: Traceparent.optional(),
});

export type TraceContext = z.output<typeof TraceContextSchema>;
