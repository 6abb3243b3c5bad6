import type { ActionWire, Intent, Requirement, RoleGroup, SealedArtifact } from '@countersign/contracts';
import type { TimelineEntry } from './timeline.ts';
import type { ActionRecord, VoteRecord } from '../action.ts';
import { progress, type Approval } from '../slots.ts';

/**
 * What the HTTP API returns for an action (SPEC "HTTP contract": POST/GET /v1/actions): the
 * SDK's wire type with the engine's own, stricter types where it has them. Extending it keeps
 * the two from parting: a field the SDK promises cannot vanish or change here unnoticed.
 */
export interface ActionView extends Omit<ActionWire, 'requirement' | 'progress' | 'artifact' | 'intent' | 'normalizedIntent' | 'timeline'> {
  requirement?: Requirement;
  progress?: { filled: number; needed: number; open: RoleGroup[]; approvals: { personId: string; role: string }[] };
  artifact: SealedArtifact | null;
  /** On reads (GET /v1/actions/:id): the intent as its approvers see it, the rule's `redact` applied. */
  intent?: Intent;
  /**
   * The intent exactly as normalised, stored and hashed (`intentHash`, a release token's
   * `intent_sha256`): for the requesting side (the key's principal, the person it acts for) and
   * readers allowed unredacted intents; never for other approvers, who see `intent` redacted.
   */
  normalizedIntent?: Intent;
  /** Submitted, cards, reminders, tiers, votes, decision, override, redemptions, deliveries. */
  timeline?: TimelineEntry[];
}

export function toView(
  a: ActionRecord,
  votes: VoteRecord[],
  artifact: SealedArtifact | null,
  release?: { token: string; expiresAt: Date },
  /** Approvals as they count now; defaults to the votes as recorded. */
  approvalsNow?: Approval[],
): ActionView {
  const view: ActionView = {
    id: a.id,
    status: a.status,
    verdict: a.outcome,
    reasons: a.reasons,
    ruleIds: a.ruleIds,
    policyDigest: a.policyDigest,
    actionType: a.actionType,
    intentHash: a.intentHash,
    requester: { kind: a.actorKind, id: a.actorId, owner: a.ownerId, onBehalfOf: a.onBehalfOf },
    createdAt: a.createdAt.toISOString(),
    artifact,
  };
  // A refusal's stored requirement is what an override would escalate to: not in force yet.
  if (a.requirement && (a.status !== 'refused' || a.overriddenBy)) {
    view.requirement = a.requirement;
    const approvals = approvalsNow ?? votes.filter((v) => v.decision === 'approve').map((v) => ({ personId: v.personId, roles: v.roles }));
    const p = progress(a.requirement.groups, approvals);
    view.progress = { filled: p.filled, needed: p.needed, open: p.open, approvals: p.assignment };
    view.votes = votes.map((v) => ({ personId: v.personId, decision: v.decision, reason: v.reason, channel: v.channel, at: v.createdAt.toISOString() }));
  }
  if (a.expiresAt) view.expiresAt = a.expiresAt.toISOString();
  if (a.decidedAt) view.decidedAt = a.decidedAt.toISOString();
  if (a.decidedBy) view.decidedBy = a.decidedBy;
  if (a.decisionReason) view.decisionReason = a.decisionReason;
  if (a.overriddenBy) view.override = { by: a.overriddenBy, reason: a.overrideReason ?? '' };
  if (a.status === 'refused' && a.outcome === 'refuse' && a.overrideRoles.length > 0 && !a.overriddenBy) {
    view.overridable = { roles: a.overrideRoles };
  }
  if (release) {
    view.releaseToken = release.token;
    view.releaseTokenExpiresAt = release.expiresAt.toISOString();
  }
  return view;
}
