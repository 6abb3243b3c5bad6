import type { Intent, Requirement, SealedArtifact, VoteChannel, VoteDecision } from '@countersign/contracts';
import type { ActionRecord, ApiKeyRecord, RedemptionRecord, VoteRecord } from '@countersign/core';
import type { Action, ApiKey, Artifact, ReleaseRedemption, Vote } from './generated/prisma/client.ts';

// Row ↔ domain mapping, in one place. Raw SQL rows (FOR UPDATE reads) have the same column
// names as the Prisma models, so both go through these.

export function toActionRecord(row: Action): ActionRecord {
  return {
    id: row.id,
    status: row.status,
    outcome: row.outcome,
    actorId: row.actorId,
    actorKind: row.actorKind,
    ownerId: row.ownerId,
    onBehalfOf: row.onBehalfOf,
    apiKeyId: row.apiKeyId,
    intent: row.intent as unknown as Intent,
    intentHash: row.intentHash,
    actionType: row.actionType,
    policyDigest: row.policyDigest,
    ruleIds: row.ruleIds,
    reasons: row.reasons,
    requirement: (row.requirement ?? null) as Requirement | null,
    overrideRoles: row.overrideRoles,
    expiresAt: row.expiresAt,
    createdAt: row.createdAt,
    decidedAt: row.decidedAt,
    decidedBy: row.decidedBy,
    decisionReason: row.decisionReason,
    overriddenBy: row.overriddenBy,
    overrideReason: row.overrideReason,
    idempotencyKey: row.idempotencyKey,
    requestHash: row.requestHash,
  };
}

export function toVoteRecord(row: Vote): VoteRecord {
  return {
    id: row.id,
    actionId: row.actionId,
    personId: row.personId,
    decision: row.decision as VoteDecision,
    reason: row.reason,
    channel: row.channel as VoteChannel,
    roles: row.roles,
    createdAt: row.createdAt,
  };
}

export function toApiKeyRecord(row: ApiKey): ApiKeyRecord {
  return { ...row };
}

export function toSealedArtifact(row: Artifact): SealedArtifact {
  return {
    seq: Number(row.seq),
    kind: row.kind as SealedArtifact['kind'],
    actionId: row.actionId,
    at: row.at.toISOString(),
    canonical: row.canonical,
    hash: row.hash,
    prevHash: row.prevHash,
    signature: row.signature,
    keyId: row.keyId,
  };
}

export function toRedemptionRecord(row: ReleaseRedemption): RedemptionRecord {
  return { tokenId: row.jti, actionId: row.actionId, audience: row.audience, redeemedBy: row.redeemedBy, redeemedAt: row.redeemedAt };
}
