import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { DomainError, IntentSchema } from '@countersign/contracts';
import { zodIssues } from '@countersign/core';
import { intentHash, ReleaseTokenError, verifyReleaseToken, type ReleaseTokenClaims } from '@countersign/evidence';
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
 * Release tokens are single use. A downstream service redeems one before acting: the token
 * must verify (signature, expiry, audience, and the intent when given), its action must be
 * approved, and neither this token (jti) nor any other token for the same approval and
 * audience may have been redeemed before: tokens are minted on every read of an approved
 * action, so "once per token" alone would let one approval run many times.
 */
export function releaseRoutes(app: FastifyInstance, ctx: RouteContext): void {
  app.post('/v1/releases/redeem', { preHandler: ctx.authenticate }, async (request, reply) => {
    const caller = callerOf(request);
    const body = parseInput(RedeemBody, request.body, 'body');
    const audience = body.audience ?? ctx.settings.COUNTERSIGN_RELEASE_AUDIENCE;
    const claims = await verified(ctx, body.token, audience, body.intent === undefined ? undefined : boundIntentHash(body.intent));

    const action = await ctx.gate.deps.store.findAction(claims.sub);
    if (!action || action.status !== 'approved') {
      throw new DomainError('invalid_release_token', 'The action this token releases is not approved.', { extra: { reason: 'not_approved' } });
    }

    const redeemed = await redeemOnce(ctx, { jti: claims.jti, actionId: action.id, audience: claims.aud, redeemedBy: caller.principal.id });
    if ('already' in redeemed) {
      throw new DomainError('already_redeemed', 'This approval has already been redeemed; a release token releases one execution.', {
        extra: { actionId: action.id, redeemedAt: redeemed.already.redeemedAt.toISOString() },
      });
    }
    return reply.code(201).send({
      actionId: action.id,
      jti: redeemed.row.jti,
      audience: redeemed.row.audience,
      intentHash: action.intentHash,
      actionType: action.actionType,
      redeemedAt: redeemed.row.redeemedAt.toISOString(),
      redeemedBy: caller.principal.id,
    });
  });
}

async function verified(ctx: RouteContext, token: string, audience: string, expectedIntentHash: string | undefined): Promise<ReleaseTokenClaims> {
  try {
    return await verifyReleaseToken(token, {
      keys: ctx.keyring.publicKeys(),
      audience,
      issuer: ctx.settings.COUNTERSIGN_ISSUER,
      now: ctx.gate.deps.clock.now(),
      ...(expectedIntentHash !== undefined ? { intentHash: expectedIntentHash } : {}),
    });
  } catch (err) {
    // A token that does not verify is not a credential problem of the caller's API key: 403,
    // with the reason (expired, wrong_audience, intent_mismatch, …) for the downstream's logs.
    if (err instanceof ReleaseTokenError) throw new DomainError('invalid_release_token', err.message, { extra: { reason: err.reason } });
    throw err;
  }
}

/** The hash the token must carry for this intent: normalised exactly as at submission. */
function boundIntentHash(intent: unknown): string {
  const parsed = IntentSchema.safeParse(intent);
  if (!parsed.success) {
    throw new DomainError('invalid_request', 'The intent is not valid.', {
      issues: zodIssues(parsed.error).map((i) => ({ field: `intent.${i.field}`, message: i.message })),
    });
  }
  return intentHash(parsed.data);
}

/** Prisma reports unique violations as P2002 (also through driver adapters); Postgres as 23505. */
function isUniqueViolation(err: unknown): boolean {
  let e: unknown = err;
  for (let depth = 0; e && depth < 5; depth++) {
    const code = (e as { code?: unknown }).code;
    if (code === 'P2002' || code === '23505') return true;
    e = (e as { cause?: unknown }).cause;
  }
  return false;
}

type RedemptionRow = { jti: string; audience: string; redeemedAt: Date };

/**
 * Records the redemption unless the approval was redeemed already. The database decides: the
 * unique key on (actionId, audience) lets exactly one of any number of simultaneous
 * redemptions insert its row, whichever tokens they present (the jti key covers the same
 * token twice); the losers find the winner's row. The lookup first only spares the common
 * repeat a failed insert.
 */
async function redeemOnce(
  ctx: RouteContext,
  r: { jti: string; actionId: string; audience: string; redeemedBy: string },
): Promise<{ row: RedemptionRow } | { already: RedemptionRow }> {
  const earlier = { OR: [{ actionId: r.actionId, audience: r.audience }, { jti: r.jti }] };
  const already = await ctx.prisma.releaseRedemption.findFirst({ where: earlier });
  if (already) return { already };
  try {
    const row = await ctx.prisma.releaseRedemption.create({ data: { ...r, redeemedAt: ctx.gate.deps.clock.now() } });
    return { row };
  } catch (err) {
    if (!isUniqueViolation(err)) throw err;
    // Lost the race: another redemption of this approval (or of this very token) committed first.
    return { already: await ctx.prisma.releaseRedemption.findFirstOrThrow({ where: earlier }) };
  }
}
