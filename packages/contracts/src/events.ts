import { z } from 'zod';
import { TraceContextSchema } from './trace-context.ts';

// What the engine tells the rest of the system, through the transactional outbox: written in
// the same transaction as the change, dispatched to queue jobs afterwards. `trace` is stamped by
// the server when tracing is on (see apps/server/src/telemetry), never by the engine.
export const GateEventSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('action.escalated'), actionId: z.string(), trace: TraceContextSchema.optional() }),
  z.strictObject({
    type: z.literal('vote.recorded'),
    actionId: z.string(),
    personId: z.string(),
    decision: z.enum(['approve', 'deny']),
    trace: TraceContextSchema.optional(),
  }),
  z.strictObject({
    type: z.literal('action.decided'),
    actionId: z.string(),
    status: z.enum(['approved', 'refused', 'expired', 'cancelled']),
    /** True when the decision came from policy at submission (no cards were ever posted). */
    automatic: z.boolean(),
    override: z.boolean(),
    trace: TraceContextSchema.optional(),
  }),
]);

export type GateEvent = z.output<typeof GateEventSchema>;
