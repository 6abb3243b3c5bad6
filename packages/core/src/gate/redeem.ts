import { DomainError, IntentSchema, type SealedArtifact } from '@countersign/contracts';
import { intentHash as hashIntent } from '@countersign/evidence';
import type { Caller } from '../keys/key-service.ts';
import { UniqueViolation, type GateTx } from '../ports.ts';
import type { GateDeps, ReleaseClaims } from './deps.ts';
import { zodIssues } from './zod-issues.ts';

export interface RedeemRequest {
  caller: Caller;
  token: string;
  /** The audience the downstream service accepts. */
  audience: string;
  /** The intent about to be carried out: when given, the token must be bound to exactly it. */
  intent?: unknown;
}

export interface Redemption {
  actionId: string;
  tokenId: string;
  audience: string;
  intentHash: string;
  actionType: string;
  redeemedAt: Date;
  redeemedBy: string;
  /** The `release.redeemed` artifact, sealed in the same transaction as the redemption. */
  artifact: SealedArtifact;
}

/**
 * A downstream service redeems a release token before acting. The token must verify
 * (signature, expiry, audience, and the intent when given), its action must be approved, and
 * neither this token nor any other token for the same approval and audience may have been
 * redeemed before: a token is minted on every read of an approved action, so "once per token"
 * alone would let one approval run many times. Each redemption is sealed as an artifact.
 */
export async function redeemRelease(deps: GateDeps, req: RedeemRequest): Promise<Redemption> {
  // A malformed intent is the caller's bad request (400), told before the token is looked at.
  const intentHash = req.intent === undefined ? undefined : boundIntentHash(req.intent);
  const claims = await deps.release.verify(req.token, { audience: req.audience, ...(intentHash === undefined ? {} : { intentHash }) });
  try {
    return await deps.store.transaction((tx) => redeemInTx(deps, tx, claims, req.caller));
  } catch (err) {
    // The action's row lock serialises redemptions, so the check below sees any winner that
    // committed first. A unique violation means one was written without that lock: running
    // again finds it and refuses with already_redeemed.
    if (!(err instanceof UniqueViolation)) throw err;
    return deps.store.transaction((tx) => redeemInTx(deps, tx, claims, req.caller));
  }
}

async function redeemInTx(deps: GateDeps, tx: GateTx, claims: ReleaseClaims, caller: Caller): Promise<Redemption> {
  const action = await tx.lockAction(claims.actionId);
  if (!action || action.status !== 'approved') {
    throw new DomainError('invalid_release_token', 'The action this token releases is not approved.', { extra: { reason: 'not_approved' } });
  }
  // The token is bound to an intent hash; it must be the approved action's own. A token signed
  // for the right action id but another intent (a leaked or retired key's work) releases nothing.
  if (claims.intentHash !== action.intentHash) {
    throw new DomainError('invalid_release_token', 'This token is bound to a different intent than the approved action.', { extra: { reason: 'intent_mismatch' } });
  }
  if (!(await tx.isKeyActive(caller.keyId))) throw new DomainError('unauthenticated', 'This API key has been revoked.');
  const earlier = await tx.findRedemption({ actionId: action.id, audience: claims.audience, tokenId: claims.tokenId });
  if (earlier) {
    throw new DomainError('already_redeemed', 'This approval has already been redeemed; a release token releases one execution.', {
      extra: { actionId: action.id, redeemedAt: earlier.redeemedAt.toISOString() },
    });
  }
  const redeemedAt = deps.clock.now();
  const redeemedBy = caller.principal.id;
  await tx.insertRedemption({ tokenId: claims.tokenId, actionId: action.id, audience: claims.audience, redeemedBy, redeemedAt });
  const artifact = await tx.appendArtifact({
    kind: 'release.redeemed',
    actionId: action.id,
    intentHash: action.intentHash,
    actionType: action.actionType,
    audience: claims.audience,
    redeemedBy,
    tokenId: claims.tokenId,
  });
  return { actionId: action.id, tokenId: claims.tokenId, audience: claims.audience, intentHash: action.intentHash, actionType: action.actionType, redeemedAt, redeemedBy, artifact };
}

/** The hash the token must carry for this intent: normalised exactly as at submission. */
function boundIntentHash(intent: unknown): string {
  const parsed = IntentSchema.safeParse(intent);
  if (!parsed.success) {
    throw new DomainError('invalid_request', 'The intent is not valid.', {
      // The intent itself (null, a number) is `intent`, not `intent.(body)`.
      issues: zodIssues(parsed.error).map((i) => ({ field: i.field === '(body)' ? 'intent' : `intent.${i.field}`, message: i.message })),
    });
  }
  return hashIntent(parsed.data);
}
