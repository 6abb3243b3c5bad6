import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { ActionViewSchema, VoteResponseSchema } from '@countersign/contracts';
import { describeRoute, type RouteDoc } from '../openapi/route-doc.ts';
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
  // A refusal says no more than reading would (ActionReads.refusalFor): not_found to a caller
  // who may not read the action.
  const refused = (id: string, request: FastifyRequest) => async (err: unknown): Promise<never> => {
    throw await ctx.reads.refusalFor(err, id, callerOf(request));
  };
  // Each decision is a POST by an authenticated caller on one action.
  const describeDecision = (url: string, doc: Omit<RouteDoc, 'method' | 'url' | 'tag' | 'auth' | 'params'>) =>
    describeRoute(app, { method: 'POST', url, tag: 'decisions', auth: true, params: IdParams, ...doc });

  describeDecision('/v1/actions/:id/votes', {
    summary: 'Vote on a pending action (a person’s API key)',
    description: 'Every approver check applies: no self-approval, an open slot the person’s role fills, one vote each. A deny ends the request unless the rule says otherwise.',
    body: VoteBody,
    bodyRequired: true,
    responses: { 201: { description: 'The vote, sealed; `decided` when it decided the action.', schema: VoteResponseSchema } },
    problems: [403, 404, 409, 422],
  });
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
      account: { apiKeyId: callerOf(request).keyId },
    }).catch(refused(id, request));
    const action = await ctx.gate.view(result.action);
    return reply.code(201).send({
      vote: { personId, decision: body.decision, reason: body.reason, channel: 'api', at: result.vote.createdAt.toISOString(), artifact: result.artifacts[0] },
      decided: result.decided,
      action,
    });
  });

  describeDecision('/v1/actions/:id/cancel', {
    summary: 'The requester withdraws a pending action',
    body: CancelBody,
    responses: { 200: { description: 'The cancelled action.', schema: ActionViewSchema } },
    problems: [403, 404, 409],
  });
  app.post('/v1/actions/:id/cancel', { preHandler: ctx.authenticate }, async (request) => {
    const { id } = parseInput(IdParams, request.params, 'path');
    const body = parseInput(CancelBody, request.body, 'body');
    return ctx.gate.cancel(id, callerOf(request), body.reason).catch(refused(id, request));
  });

  describeDecision('/v1/actions/:id/override', {
    summary: 'Supervised override of a refusal (a role the policy names, with a reason)',
    body: OverrideBody,
    bodyRequired: true,
    responses: { 200: { description: 'The action: approved, or pending when escalate rules also matched.', schema: ActionViewSchema } },
    problems: [403, 404, 409, 422],
  });
  app.post('/v1/actions/:id/override', { preHandler: ctx.authenticate }, async (request) => {
    const { id } = parseInput(IdParams, request.params, 'path');
    const personId = personOf(request);
    const body = parseInput(OverrideBody, request.body, 'body');
    const { action } = await ctx.gate.override({ actionId: id, personId, reason: body.reason ?? '', keyId: callerOf(request).keyId }).catch(refused(id, request));
    return ctx.gate.view(action);
  });
}
