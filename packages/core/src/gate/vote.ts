import { randomId, type DomainError, type SealedArtifact, type VoteChannel, type VoteDecision } from '@countersign/contracts';
import type { ActionRecord, VoteRecord } from '../action.ts';
import { progress } from '../slots.ts';
import { checkVoteOn } from './check-vote.ts';
import type { GateDeps } from './deps.ts';
import { expiryPatch, finalizeInTx } from './finalize.ts';

export interface VoteRequest {
  actionId: string;
  /** A directory person id, already mapped from the channel identity by the channel. */
  personId: string;
  channel: VoteChannel;
  decision: VoteDecision;
  reason: string | null;
  /** The API key the vote came with (API channel): re-checked inside the transaction. */
  keyId?: string;
  /**
   * The channel account that was mapped to `personId` (Slack team and user, Teams tenant and
   * AAD object id, console session subject), sealed in the vote's artifact. An API vote without
   * one records its key id.
   */
  account?: Record<string, string>;
  /** The chat account that clicked, as `channel:key` (see VoteCheckRequest.identity). */
  identity?: string;
}

export interface VoteResult {
  action: ActionRecord;
  vote: VoteRecord;
  artifacts: SealedArtifact[];
  /** True when this vote decided the action. */
  decided: boolean;
}

type Outcome = { ok: VoteResult } | { refused: DomainError };

function viaOf(req: VoteRequest): { via?: { channel: VoteChannel; account: Record<string, string> } } {
  const account = req.account ?? (req.keyId ? { apiKeyId: req.keyId } : undefined);
  return account ? { via: { channel: req.channel, account } } : {};
}

/**
 * Records one vote. The action row is locked for the whole check-and-write, so simultaneous
 * clicks are serialised by Postgres; the unique (action, person) index backs "one vote each".
 * A refusal that must still change state (expiry noticed at vote time) commits first and
 * then reports the refusal.
 */
export async function castVote(deps: GateDeps, req: VoteRequest): Promise<VoteResult> {
  const outcome = await deps.store.transaction<Outcome>(async (tx) => {
    const locked = await tx.lockAction(req.actionId);
    const now = deps.clock.now();
    const checked = await checkVoteOn(deps.config, tx, locked, req, now);
    if ('refused' in checked) {
      // Expiry noticed at vote time closes the action (fail closed), then refuses the vote.
      if (checked.expired && locked) await finalizeInTx(tx, locked, expiryPatch(now));
      return { refused: checked.refused };
    }
    const { action, person, binding, approvals: approvalsBefore } = checked.allowed;

    const requirement = action.requirement!;
    const vote: VoteRecord = {
      id: randomId('vote'),
      actionId: action.id,
      personId: person.id,
      decision: req.decision,
      reason: req.reason,
      channel: req.channel,
      roles: person.roles.filter((r) => requirement.groups.some((g) => g.role === r)),
      binding,
      createdAt: now,
    };
    await tx.insertVote(vote);
    const approvals = req.decision === 'approve' ? [...approvalsBefore, { personId: person.id, roles: vote.roles }] : approvalsBefore;
    const p = progress(requirement.groups, approvals);
    const artifacts: SealedArtifact[] = [
      await tx.appendArtifact({
        kind: 'vote.recorded',
        actionId: action.id,
        intentHash: action.intentHash,
        actionType: action.actionType,
        personId: person.id,
        decision: req.decision,
        reason: req.reason,
        channel: req.channel,
        rolesAtVote: vote.roles,
        progress: { filled: p.filled, needed: p.needed },
        ...viaOf(req),
      }),
    ];
    await tx.emit({ type: 'vote.recorded', actionId: action.id, personId: person.id, decision: req.decision });
    let decided = false;
    if (req.decision === 'deny' && requirement.denyEndsRequest) {
      artifacts.push(await finalizeInTx(tx, action, { status: 'refused', at: now, decidedBy: person.id, reason: `denied by ${person.id}: ${req.reason}` }));
      decided = true;
    } else if (req.decision === 'approve' && p.filled === p.needed) {
      // Only an approval completes the requirement. Approvals can come to fill it without one
      // (an earlier approver's role given back in the directory); a deny cast then must not be
      // the click that approves: the action waits for an approval, or expires.
      artifacts.push(await finalizeInTx(tx, action, { status: 'approved', at: now, decidedBy: person.id, reason: null }, p.assignment));
      decided = true;
    }
    return { ok: { action, vote, artifacts, decided } };
  });
  if ('refused' in outcome) throw outcome.refused;
  return outcome.ok;
}
