import type { Intent, Requirement, SealedArtifact, VoteChannel, VoteDecision } from '@countersign/contracts';
import type { ActionRecord, ApiKeyRecord, RedemptionRecord, VoteRecord } from '@countersign/core';
import type { Action, ApiKey, Artifact, ReleaseRedemption, Vote } from './generated/prisma/client.ts';

// Row ↔ domain mapping, in one place. Plain SQL rows (sql.ts) have the same column names as
// the Prisma models, so both go through these; pg hands int8 (an artifact's seq) over as a
// decimal string where Prisma gives a BigInt.

export type ActionRow = Action;
export type VoteRow = Vote;
export type ApiKeyRow = ApiKey;
export type RedemptionRow = ReleaseRedemption;
export type ArtifactRow = Omit<Artifact, 'seq'> & { seq: bigint | string };

export function toActionRecord(row: ActionRow): ActionRecord {
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
    partyBindings: row.partyBindings ?? [],
    approversAtMark: row.approversAtMark ?? [],
  };
}

export function toVoteRecord(row: VoteRow): VoteRecord {
  return {
    id: row.id,
    actionId: row.actionId,
    personId: row.personId,
    decision: row.decision as VoteDecision,
    reason: row.reason,
    channel: row.channel as VoteChannel,
    roles: row.roles,
    binding: row.binding ?? null,
    createdAt: row.createdAt,
  };
}

export function toApiKeyRecord(row: ApiKeyRow): ApiKeyRecord {
  return { ...row };
}

export function toSealedArtifact(row: ArtifactRow): SealedArtifact {
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

export function toRedemptionRecord(row: RedemptionRow): RedemptionRecord {
  return { tokenId: row.jti, actionId: row.actionId, audience: row.audience, redeemedBy: row.redeemedBy, redeemedAt: row.redeemedAt };
}
