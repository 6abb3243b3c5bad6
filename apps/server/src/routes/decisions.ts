import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { IdParams } from './actions.ts';
import type { RouteContext } from './context.ts';
import { callerOf, personOf } from './context.ts';
import { parseInput } from './parse.ts';

// A reason that is missing, null, empty or blank is "no reason": whether one is required is
// the engine's decision (a deny, an override, a rule asking for it), answered with one code,
// 422 reason_required, whichever way "no reason" was written.
const reason = z
  .string()
  .max(2000)
  .nullish()
  .transform((r) => (r == null || r.trim() === '' ? null : r.trim()));
const VoteBody = z.strictObject({ decision: z.enum(['approve', 'deny']), reason });
const CancelBody = z.strictObject({ reason });
const OverrideBody = z.strictObject({ reason });

/** People decide: API-channel votes, the requester's cancel, supervised overrides. */
export function decisionRoutes(app: FastifyInstance, ctx: RouteContext): void {
  app.post('/v1/actions/:id/votes', { preHandler: ctx.authenticate }, async (request, reply) => {
    const { id } = parseInput(IdParams, request.params, 'path');
    const personId = personOf(request);
    const body = parseInput(VoteBody, request.body, 'body');
    const result = await ctx.gate.vote({
      actionId: id,
      personId,
      channel: 'api',
      decision: body.decision,
      reason: body.reason,
      keyId: callerOf(request).keyId,
    });
    const action = await ctx.gate.view(result.action);
    return reply.code(201).send({
      vote: { personId, decision: body.decision, reason: body.reason, channel: 'api', at: result.vote.createdAt.toISOString(), artifact: result.artifacts[0] },
      decided: result.decided,
      action,
    });
  });

  app.post('/v1/actions/:id/cancel', { preHandler: ctx.authenticate }, async (request) => {
    const { id } = parseInput(IdParams, request.params, 'path');
    const body = parseInput(CancelBody, request.body, 'body');
    return ctx.gate.cancel(id, callerOf(request), body.reason);
  });

  app.post('/v1/actions/:id/override', { preHandler: ctx.authenticate }, async (request) => {
    const { id } = parseInput(IdParams, request.params, 'path');
    const personId = personOf(request);
    const body = parseInput(OverrideBody, request.body, 'body');
    const { action } = await ctx.gate.override({ actionId: id, personId, reason: body.reason ?? '', keyId: callerOf(request).keyId });
    return ctx.gate.view(action);
  });
}
