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
}

export interface VoteRecord {
  id: string;
  actionId: string;
  personId: string;
  decision: VoteDecision;
  reason: string | null;
  channel: VoteChannel;
  roles: string[];
  createdAt: Date;
}

export function isFinal(status: ActionStatus): boolean {
  return status !== 'pending';
}
