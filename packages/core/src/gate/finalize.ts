import type { SealedArtifact } from '@countersign/contracts';
import type { ActionRecord } from '../action.ts';
import type { FinalizePatch, GateTx } from '../ports.ts';

/**
 * Writes a final state and its artifact in the caller's transaction, then wakes waiters.
 * Every path to a final state goes through here so none can skip the artifact.
 */
export async function finalizeInTx(
  tx: GateTx,
  action: ActionRecord,
  patch: FinalizePatch,
  approvers: { personId: string; role: string }[] = [],
): Promise<SealedArtifact> {
  await tx.finalize(action.id, patch);
  action.status = patch.status;
  action.decidedAt = patch.at;
  action.decidedBy = patch.decidedBy;
  action.decisionReason = patch.reason;
  const artifact = await tx.appendArtifact({
    kind: 'action.decided',
    actionId: action.id,
    intentHash: action.intentHash,
    actionType: action.actionType,
    status: patch.status,
    decidedBy: patch.decidedBy,
    actor: { kind: action.actorKind, id: action.actorId },
    onBehalfOf: action.onBehalfOf,
    policyDigest: action.policyDigest,
    ruleIds: action.ruleIds,
    reasons: patch.reason ? [...action.reasons, patch.reason] : action.reasons,
    approvers,
  });
  await tx.publishDecision(action.id);
  await tx.emit({ type: 'action.decided', actionId: action.id, status: patch.status, automatic: false, override: false });
  return artifact;
}

export function isPastExpiry(action: ActionRecord, now: Date): boolean {
  return action.status === 'pending' && action.expiresAt !== null && now.getTime() >= action.expiresAt.getTime();
}

export function expiryPatch(now: Date): FinalizePatch {
  return { status: 'expired', at: now, decidedBy: 'system', reason: 'approval requirement expired before it was met' };
}
