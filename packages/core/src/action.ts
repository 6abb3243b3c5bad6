import type { ActionStatus, Intent, Outcome, Requirement, VoteChannel, VoteDecision } from '@countersign/contracts';

/** An action as the system of record holds it. */
export interface ActionRecord {
  id: string;
  status: ActionStatus;
  outcome: Outcome;
  actorId: string;
  actorKind: 'person' | 'agent';
  ownerId: string | null;
  onBehalfOf: string | null;
  apiKeyId: string;
  intent: Intent;
  intentHash: string;
  actionType: string;
  policyDigest: string;
  ruleIds: string[];
  reasons: string[];
  requirement: Requirement | null;
  overrideRoles: string[];
  expiresAt: Date | null;
  createdAt: Date;
  decidedAt: Date | null;
  decidedBy: string | null;
  decisionReason: string | null;
  overriddenBy: string | null;
  overrideReason: string | null;
  idempotencyKey: string | null;
  requestHash: string | null;
  /**
   * personBinding() of each person who may not approve this action because of who they are:
   * the requesting person, the person it is on behalf of, the agent's owner (unless the rule
   * lets owners approve), from the directory at submission. Empty for actions made before;
   * absent only where no store is involved (card and view fixtures): then none are recorded.
   */
  partyBindings?: string[];
  /**
   * Who could approve when a party's chat account could not be found (partyBindings holds an
   * `unmatched:` entry): approverAtMark() and pinnedApprover() entries, recorded with the mark.
   * Empty or absent until then.
   */
  approversAtMark?: string[];
}

export interface VoteRecord {
  id: string;
  actionId: string;
  personId: string;
  decision: VoteDecision;
  reason: string | null;
  channel: VoteChannel;
  roles: string[];
  /**
   * personBinding() of the voter at vote time; null (or absent, in fixtures) for votes made
   * before bindings, which count as they did: by id.
   */
  binding?: string | null;
  createdAt: Date;
}

export function isFinal(status: ActionStatus): boolean {
  return status !== 'pending';
}
