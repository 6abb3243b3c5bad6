import type { ArtifactEvent, ArtifactKind, GateEvent, SealedArtifact } from '@countersign/contracts';
import type { ActionRecord, ApiKeyRecord, FinalizePatch, GateTx, OverridePatch, RedemptionRecord, VoteRecord } from '@countersign/core';
import { sealArtifact, type Keyring } from '@countersign/evidence';
import { assertActiveKeyMaySign } from './signing-key-guard.ts';
import type { SqlRunner } from './sql.ts';
import { toActionRecord, toRedemptionRecord, toVoteRecord, type ActionRow, type RedemptionRow, type VoteRow } from './rows.ts';

/** What the engine's transactions run on (plain SQL, see sql.ts). */
export type TxClient = SqlRunner;
export const DECISION_CHANNEL = 'countersign_decisions';
/** Wakes the outbox dispatcher (any process running the worker role). */
export const OUTBOX_CHANNEL = 'countersign_outbox';
/** Tells every process to drop its cached API keys (a key was revoked). */
export const KEYS_CHANNEL = 'countersign_keys';

export class PgGateTx implements GateTx {
  /** Set when this transaction revoked a key: the store drops its key cache once it ends. */
  revokedKeys = false;

  constructor(
    private readonly tx: TxClient,
    private readonly keyring: Keyring,
    private readonly now: () => Date,
  ) {}

  async insertAction(a: ActionRecord): Promise<void> {
    await this.tx.execute`
      INSERT INTO "Action" (
        id, status, outcome, "actorId", "actorKind", "ownerId", "onBehalfOf", "apiKeyId", intent, "intentHash",
        "actionType", "policyDigest", "ruleIds", reasons, requirement, "overrideRoles", "expiresAt", "createdAt",
        "decidedAt", "decidedBy", "decisionReason", "overriddenBy", "overrideReason", "idempotencyKey", "requestHash")
      VALUES (
        ${a.id}, ${a.status}::"ActionStatus", ${a.outcome}::"VerdictOutcome", ${a.actorId}, ${a.actorKind}::"PrincipalKind", ${a.ownerId}, ${a.onBehalfOf},
        ${a.apiKeyId}, ${JSON.stringify(a.intent)}::jsonb, ${a.intentHash}, ${a.actionType}, ${a.policyDigest}, ${a.ruleIds}::text[],
        ${a.reasons}::text[], ${a.requirement === null ? null : JSON.stringify(a.requirement)}::jsonb, ${a.overrideRoles}::text[], ${a.expiresAt},
        ${a.createdAt}, ${a.decidedAt}, ${a.decidedBy}, ${a.decisionReason}, ${a.overriddenBy}, ${a.overrideReason}, ${a.idempotencyKey}, ${a.requestHash})`;
  }

  async lockAction(id: string): Promise<ActionRecord | null> {
    const rows = await this.tx.query<ActionRow>`SELECT * FROM "Action" WHERE id = ${id} FOR UPDATE`;
    return rows[0] ? toActionRecord(rows[0]) : null;
  }

  async votesFor(actionId: string): Promise<VoteRecord[]> {
    const rows = await this.tx.query<VoteRow>`SELECT * FROM "Vote" WHERE "actionId" = ${actionId} ORDER BY "createdAt", id`;
    return rows.map(toVoteRecord);
  }

  async insertVote(v: VoteRecord): Promise<void> {
    await this.tx.execute`
      INSERT INTO "Vote" (id, "actionId", "personId", decision, reason, channel, roles, "createdAt")
      VALUES (${v.id}, ${v.actionId}, ${v.personId}, ${v.decision}, ${v.reason}, ${v.channel}, ${v.roles}::text[], ${v.createdAt})`;
  }

  async finalize(id: string, patch: FinalizePatch): Promise<void> {
    const count = await this.tx.execute`
      UPDATE "Action" SET status = ${patch.status}::"ActionStatus", "decidedAt" = ${patch.at}, "decidedBy" = ${patch.decidedBy}, "decisionReason" = ${patch.reason}
      WHERE id = ${id} AND status = 'pending'`;
    // The row lock makes this unreachable; if it ever happens we abort rather than decide twice.
    if (count !== 1) throw new Error(`action ${id} was not pending when finalizing`);
  }

  async recordOverride(id: string, patch: OverridePatch): Promise<void> {
    const count = patch.escalateUntil
      ? await this.tx.execute`
          UPDATE "Action" SET "overriddenBy" = ${patch.personId}, "overrideReason" = ${patch.reason}, status = 'pending',
            "expiresAt" = ${patch.escalateUntil}, "decidedAt" = NULL, "decidedBy" = NULL, "decisionReason" = NULL
          WHERE id = ${id} AND status = 'refused' AND outcome = 'refuse' AND "overriddenBy" IS NULL`
      : await this.tx.execute`
          UPDATE "Action" SET "overriddenBy" = ${patch.personId}, "overrideReason" = ${patch.reason}, status = 'approved', "decidedAt" = ${patch.at}
          WHERE id = ${id} AND status = 'refused' AND outcome = 'refuse' AND "overriddenBy" IS NULL`;
    if (count !== 1) throw new Error(`action ${id} was not an un-overridden refusal`);
  }

  async insertApiKey(key: ApiKeyRecord): Promise<void> {
    await this.tx.execute`
      INSERT INTO "ApiKey" (id, prefix, "secretHash", "principalId", "principalKind", "principalBinding", "canDelegate", "delegateFor", label, "createdAt", "revokedAt", "lastUsedAt")
      VALUES (${key.id}, ${key.prefix}, ${key.secretHash}, ${key.principalId}, ${key.principalKind}::"PrincipalKind", ${key.principalBinding}, ${key.canDelegate},
        ${key.delegateFor}::text[], ${key.label}, ${key.createdAt}, ${key.revokedAt}, ${key.lastUsedAt})`;
  }

  async revokeApiKey(id: string, at: Date): Promise<boolean> {
    const count = await this.tx.execute`UPDATE "ApiKey" SET "revokedAt" = ${at} WHERE id = ${id} AND "revokedAt" IS NULL`;
    if (count !== 1) return false;
    this.revokedKeys = true;
    // Transactional: other processes drop their cached keys as soon as the revocation commits.
    await this.tx.query`SELECT 1 AS notified FROM pg_notify(${KEYS_CHANNEL}, ${id})`;
    return true;
  }

  async appendArtifact(event: ArtifactEvent): Promise<SealedArtifact> {
    // Taking the head row lock serialises appends across every process: the sequence stays
    // gapless and each artifact links to the one committed before it. `at` is read under the
    // lock so it never goes backwards along the chain.
    // headKeyId: who signed the artifact this one follows (see signing-key-guard.ts).
    const head = await this.tx.query<{ seq: string; hash: string; headKeyId: string | null }>`
      UPDATE "ArtifactHead" SET seq = seq + 1 WHERE id = 1
      RETURNING seq, hash, (SELECT a."keyId" FROM "Artifact" a WHERE a.seq = "ArtifactHead".seq - 1) AS "headKeyId"`;
    const h = head[0];
    if (!h) throw new Error('artifact chain head missing: migrations not applied');
    await assertActiveKeyMaySign(this.tx, this.keyring, h.headKeyId);
    const sealed = sealArtifact({ seq: Number(h.seq), prevHash: h.hash, at: this.now(), event, key: this.keyring.active });
    await this.tx.execute`
      WITH ins AS (
        INSERT INTO "Artifact" (seq, kind, "actionId", at, canonical, hash, "prevHash", signature, "keyId")
        VALUES (${h.seq}, ${sealed.kind}, ${sealed.actionId}, ${new Date(sealed.at)}, ${sealed.canonical},
                ${sealed.hash}, ${sealed.prevHash}, ${sealed.signature}, ${sealed.keyId})
      )
      UPDATE "ArtifactHead" SET hash = ${sealed.hash} WHERE id = 1`;
    return sealed;
  }

  async recordConfigVersion(file: 'policy' | 'directory', digest: string): Promise<{ isNew: boolean; previousDigest: string | null }> {
    // Serialise config recording across processes starting at once.
    await this.tx.query`SELECT 1 AS locked FROM pg_advisory_xact_lock(hashtext(${'config:' + file}))`;
    const [previous] = await this.tx.query<{ digest: string }>`
      SELECT digest FROM "ConfigVersion" WHERE file = ${file} ORDER BY "createdAt" DESC LIMIT 1`;
    if (previous?.digest === digest) return { isNew: false, previousDigest: previous.digest };
    // Reverting to an earlier file is still a change worth sealing: its timestamp is refreshed.
    await this.tx.execute`
      INSERT INTO "ConfigVersion" (file, digest, "createdAt") VALUES (${file}, ${digest}, ${this.now()})
      ON CONFLICT (file, digest) DO UPDATE SET "createdAt" = EXCLUDED."createdAt"`;
    return { isNew: true, previousDigest: previous?.digest ?? null };
  }

  async publishDecision(actionId: string): Promise<void> {
    // NOTIFY is transactional: listeners hear it only if and when the decision commits.
    await this.tx.query`SELECT 1 AS notified FROM pg_notify(${DECISION_CHANNEL}, ${actionId})`;
  }

  async emit(event: GateEvent): Promise<void> {
    // One round trip: the row and the NOTIFY that wakes the dispatcher once it commits.
    await this.tx.query`
      WITH ins AS (
        INSERT INTO "OutboxEvent" (type, "actionId", payload) VALUES (${event.type}, ${event.actionId}, ${JSON.stringify(event)}::jsonb)
        RETURNING "actionId"
      )
      SELECT pg_notify(${OUTBOX_CHANNEL}, "actionId") FROM ins`;
  }

  async hasArtifact(actionId: string, kind: ArtifactKind): Promise<boolean> {
    const rows = await this.tx.query<{ seq: string }>`SELECT seq FROM "Artifact" WHERE "actionId" = ${actionId} AND kind = ${kind} LIMIT 1`;
    return rows.length > 0;
  }

  async findRedemption(q: { actionId: string; audience: string; tokenId: string }): Promise<RedemptionRecord | null> {
    const rows = await this.tx.query<RedemptionRow>`
      SELECT * FROM "ReleaseRedemption" WHERE ("actionId" = ${q.actionId} AND audience = ${q.audience}) OR jti = ${q.tokenId} LIMIT 1`;
    return rows[0] ? toRedemptionRecord(rows[0]) : null;
  }

  async insertRedemption(r: RedemptionRecord): Promise<void> {
    await this.tx.execute`
      INSERT INTO "ReleaseRedemption" (jti, "actionId", audience, "redeemedBy", "redeemedAt")
      VALUES (${r.tokenId}, ${r.actionId}, ${r.audience}, ${r.redeemedBy}, ${r.redeemedAt})`;
  }

  async isKeyActive(keyId: string): Promise<boolean> {
    const rows = await this.tx.query<{ active: boolean }>`
      SELECT ("revokedAt" IS NULL) AS active FROM "ApiKey" WHERE id = ${keyId}`;
    return rows[0]?.active === true;
  }
}
