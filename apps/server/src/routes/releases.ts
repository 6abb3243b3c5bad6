import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { RedemptionSchema } from '@countersign/contracts';
import { describeRoute } from '../openapi/route-doc.ts';
import type { RouteContext } from './context.ts';
import { callerOf } from './context.ts';
import { parseInput } from './parse.ts';

const RedeemBody = z.strictObject({
  token: z.string().min(1).max(8192),
  /** The audience the downstream service accepts; defaults to COUNTERSIGN_RELEASE_AUDIENCE. */
  audience: z.string().min(1).max(200).optional(),
  /** The intent about to be carried out: when given, the token must be bound to exactly it. */
  intent: z.unknown().optional(),
});

/**
 * A downstream service redeems a release token before acting, once per approval and audience
 * (the engine's Gate.redeem decides and seals it as a `release.redeemed` artifact).
 */
export function releaseRoutes(app: FastifyInstance, ctx: RouteContext): void {
  describeRoute(app, {
    method: 'POST',
    url: '/v1/releases/redeem',
    tag: 'releases',
    auth: true,
    summary: 'Redeem a release token before acting (once per approval and audience)',
    body: RedeemBody,
    bodyRequired: true,
    responses: { 201: { description: 'The redemption, sealed as a `release.redeemed` artifact.', schema: RedemptionSchema } },
    problems: [403, 404, 409],
  });
  app.post('/v1/releases/redeem', { preHandler: ctx.authenticate }, async (request, reply) => {
    const caller = callerOf(request);
    const body = parseInput(RedeemBody, request.body, 'body');
    const redeemed = await ctx.gate.redeem({
      caller,
      token: body.token,
      audience: body.audience ?? ctx.settings.COUNTERSIGN_RELEASE_AUDIENCE,
      ...(body.intent === undefined ? {} : { intent: body.intent }),
    });
    return reply.code(201).send({
      actionId: redeemed.actionId,
      jti: redeemed.tokenId,
      audience: redeemed.audience,
      intentHash: redeemed.intentHash,
      actionType: redeemed.actionType,
      redeemedAt: redeemed.redeemedAt.toISOString(),
      redeemedBy: redeemed.redeemedBy,
    });
  });
}
