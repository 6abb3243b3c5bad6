import type { ArtifactEvent, ArtifactKind, GateEvent, SealedArtifact } from '@countersign/contracts';
import type { ActionRecord, ApiKeyRecord, FinalizePatch, GateTx, OverridePatch, RedemptionRecord, VoteRecord } from '@countersign/core';
import { sealArtifact, type Keyring } from '@countersign/evidence';
import { PendingWrites } from './pending-writes.ts';
import { assertActiveKeyMaySign, atOrAfter } from './signing-key-guard.ts';
import { SqlFragment, type SqlRunner } from './sql.ts';
import { toActionRecord, toRedemptionRecord, toVoteRecord, type ActionRow, type RedemptionRow, type VoteRow } from './rows.ts';

/** What the engine's transactions run on (plain SQL, see sql.ts). */
export type TxClient = SqlRunner;
export const DECISION_CHANNEL = 'countersign_decisions';
/** Wakes the outbox dispatcher (any process running the worker role). */
export const OUTBOX_CHANNEL = 'countersign_outbox';
/** Tells every process to drop its cached API keys (a key was revoked). */
export const KEYS_CHANNEL = 'countersign_keys';

/** The chain head row with the signer and time of its artifact (NULL past seq 0 means: ask again, see signing-key-guard.ts). */
type HeadRow = { seq: string; hash: string; headKeyId: string | null; headAt: Date | null };

/**
 * The head row `h` as HeadRow. Its signer and time come from the row itself: a statement that
 * waited for the head's lock reads the row its previous holder left, but every other table as
 * of before the wait, so that holder's artifact would not be visible to it. They describe the
 * head only while lastSeq = seq: a writer that moved the head without them (an earlier version
 * during an upgrade) leaves NULLs here, and the guard asks "Artifact" instead.
 */
const HEAD_COLUMNS = new SqlFragment(`h.seq, h.hash, CASE WHEN h."lastSeq" = h.seq THEN h."lastKeyId" END AS "headKeyId",
  CASE WHEN h."lastSeq" = h.seq THEN h."lastAt" END AS "headAt"`);

/** Timestamps inside json_agg arrive as text. */
function votesWithDates(v: Record<string, unknown>): VoteRow {
  return { ...v, createdAt: new Date(v.createdAt as string) } as VoteRow;
}

export class PgGateTx implements GateTx {
  /** Set when this transaction revoked a key: the store drops its key cache once it ends. */
  revokedKeys = false;
  /**
   * Writes that need no answer before commit wait here and go out together (pending-writes.ts):
   * votes, final states, overrides, redemptions, outbox events, NOTIFYs and artifacts. Every
   * read and every other write sends them first, so the transaction reads its own writes.
   */
  private readonly pending = new PendingWrites();
  /** Outbox events in emit order: one INSERT, so their ids keep that order. */
  private events: GateEvent[] = [];
  private decisions: string[] = [];
  /** The chain head as this transaction holds it (row-locked) and the artifacts sealed onto it. */
  private chain: { seq: number; hash: string; at: Date | null } | undefined;
  private sealed: SealedArtifact[] = [];
  /** The chain head row as locked by votesFor, not yet used by an append. */
  private head: HeadRow | undefined;
  /** Actions whose row this transaction holds locked (lockAction). */
  private readonly locked = new Set<string>();
  /** An Action row write is pending: a second one to the same row must not share its statement. */
  private actionWritePending = false;

  constructor(
    private readonly tx: TxClient,
    private readonly keyring: Keyring,
    private readonly now: () => Date,
  ) {}

  /** Sends what is pending; every read calls it first. */
  async flush(): Promise<void> {
    this.stage();
    await this.pending.flush(this.tx);
  }

  /**
   * The end of the transaction: what is pending goes out with COMMIT in one round trip (the
   * chain-head lock, when taken, is held until then). True when it committed; false when
   * nothing was pending and the COMMIT is left to the caller.
   */
  async flushAndCommit(): Promise<boolean> {
    this.stage();
    if (this.pending.size === 0 || !this.tx.queryTextAndCommit) {
      await this.pending.flush(this.tx);
      return false;
    }
    await this.pending.flush(this.tx, { commit: true });
    return true;
  }

  /** Turns what this transaction collected (events, NOTIFYs, sealed artifacts) into pending writes. */
  private stage(): void {
    if (this.events.length > 0) {
      const rows = this.events.map((e) => ({ type: e.type, actionId: e.actionId, payload: e }));
      // NOTIFY is transactional: the dispatcher hears of the events only once they commit.
      this.pending.add({
        sql: `INSERT INTO "OutboxEvent" (type, "actionId", payload)
              SELECT type, "actionId", payload FROM json_to_recordset(?::json) AS e(type text, "actionId" text, payload jsonb)
              RETURNING pg_notify('${OUTBOX_CHANNEL}', "actionId")`,
        values: [JSON.stringify(rows)],
      });
      this.events = [];
    }
    for (const actionId of this.decisions) {
      // Listeners hear it only if and when the decision commits.
      this.pending.add({ sql: `SELECT pg_notify('${DECISION_CHANNEL}', ?)`, values: [actionId] });
    }
    this.decisions = [];
    if (this.sealed.length > 0) {
      const last = this.sealed.at(-1)!;
      this.pending.add({
        sql: `INSERT INTO "Artifact" (seq, kind, "actionId", at, canonical, hash, "prevHash", signature, "keyId")
              SELECT seq, kind, "actionId", at, canonical, hash, "prevHash", signature, "keyId"
              FROM json_to_recordset(?::json)
                AS a(seq bigint, kind text, "actionId" text, at timestamptz, canonical text, hash text, "prevHash" text, signature text, "keyId" text)
              RETURNING 1`,
        values: [JSON.stringify(this.sealed)],
        expect: { rows: this.sealed.length, otherwise: 'artifacts were not all written' },
      });
      this.pending.add({
        // The head's own signer and time go with it (see HEAD_COLUMNS).
        sql: `UPDATE "ArtifactHead" SET seq = ?, hash = ?, "lastSeq" = ?, "lastKeyId" = ?, "lastAt" = ? WHERE id = 1 RETURNING 1`,
        values: [last.seq, last.hash, last.seq, last.keyId, last.at],
        expect: { rows: 1, otherwise: 'artifact chain head missing: migrations not applied' },
      });
      this.sealed = [];
    }
    this.actionWritePending = false;
  }

  /** A write to the Action row: one per statement (see actionWritePending). */
  private async actionWrite(sql: string, values: unknown[], otherwise: string): Promise<void> {
    if (this.actionWritePending) await this.flush();
    this.actionWritePending = true;
    this.pending.add({ sql, values, expect: { rows: 1, otherwise } });
  }

  async insertAction(a: ActionRecord): Promise<void> {
    await this.flush();
    await this.tx.execute`
      INSERT INTO "Action" (
        id, status, outcome, "actorId", "actorKind", "ownerId", "onBehalfOf", "apiKeyId", intent, "intentHash",
        "actionType", "policyDigest", "ruleIds", reasons, requirement, "overrideRoles", "expiresAt", "createdAt",
        "decidedAt", "decidedBy", "decisionReason", "overriddenBy", "overrideReason", "idempotencyKey", "requestHash", "partyBindings")
      VALUES (
        ${a.id}, ${a.status}::"ActionStatus", ${a.outcome}::"VerdictOutcome", ${a.actorId}, ${a.actorKind}::"PrincipalKind", ${a.ownerId}, ${a.onBehalfOf},
        ${a.apiKeyId}, ${JSON.stringify(a.intent)}::jsonb, ${a.intentHash}, ${a.actionType}, ${a.policyDigest}, ${a.ruleIds}::text[],
        ${a.reasons}::text[], ${a.requirement === null ? null : JSON.stringify(a.requirement)}::jsonb, ${a.overrideRoles}::text[], ${a.expiresAt},
        ${a.createdAt}, ${a.decidedAt}, ${a.decidedBy}, ${a.decisionReason}, ${a.overriddenBy}, ${a.overrideReason}, ${a.idempotencyKey}, ${a.requestHash}, ${a.partyBindings ?? []}::text[])`;
  }

  async lockAction(id: string): Promise<ActionRecord | null> {
    await this.flush();
    const rows = await this.tx.query<ActionRow>`SELECT * FROM "Action" WHERE id = ${id} FOR UPDATE`;
    if (rows[0]) this.locked.add(id);
    return rows[0] ? toActionRecord(rows[0]) : null;
  }

  async votesFor(actionId: string): Promise<VoteRecord[]> {
    await this.flush();
    if (this.chain || this.head || !this.locked.has(actionId)) {
      const rows = await this.tx.query<VoteRow>`SELECT * FROM "Vote" WHERE "actionId" = ${actionId} ORDER BY "createdAt", id`;
      return rows.map(toVoteRecord);
    }
    // A vote's transaction reads the votes and then appends to the chain: the head lock rides
    // along with the read (one round trip fewer per vote). Safe to read the votes in the same
    // statement even when it waits for the head lock (its snapshot then predates the wait):
    // votes are only ever written under their action's row lock, which this transaction holds
    // since lockAction, so none can commit between that lock and this statement's snapshot.
    // The head's signer is checked when the first artifact is sealed, as appendArtifact does.
    const [h] = await this.tx.query<HeadRow & { votes: Record<string, unknown>[] }>`
      SELECT ${HEAD_COLUMNS},
        COALESCE((SELECT json_agg(v ORDER BY v."createdAt", v.id) FROM "Vote" v WHERE v."actionId" = ${actionId}), '[]'::json) AS votes
      FROM "ArtifactHead" h WHERE h.id = 1 FOR UPDATE OF h`;
    if (!h) throw new Error('artifact chain head missing: migrations not applied');
    this.head = h;
    return h.votes.map((v) => toVoteRecord(votesWithDates(v)));
  }

  async insertVote(v: VoteRecord): Promise<void> {
    this.pending.add({
      sql: `INSERT INTO "Vote" (id, "actionId", "personId", decision, reason, channel, roles, binding, "createdAt")
            VALUES (?, ?, ?, ?, ?, ?, ?::text[], ?, ?) RETURNING 1`,
      values: [v.id, v.actionId, v.personId, v.decision, v.reason, v.channel, v.roles, v.binding ?? null, v.createdAt],
      expect: { rows: 1, otherwise: `vote ${v.id} was not written` },
    });
  }

  async finalize(id: string, patch: FinalizePatch): Promise<void> {
    // The row lock makes a miss unreachable; if it ever happens we abort rather than decide twice.
    await this.actionWrite(
      `UPDATE "Action" SET status = ?::"ActionStatus", "decidedAt" = ?, "decidedBy" = ?, "decisionReason" = ?
       WHERE id = ? AND status = 'pending' RETURNING 1`,
      [patch.status, patch.at, patch.decidedBy, patch.reason, id],
      `action ${id} was not pending when finalizing`,
    );
  }

  async recordOverride(id: string, patch: OverridePatch): Promise<void> {
    const otherwise = `action ${id} was not an un-overridden refusal`;
    if (patch.escalateUntil) {
      await this.actionWrite(
        `UPDATE "Action" SET "overriddenBy" = ?, "overrideReason" = ?, status = 'pending',
           "expiresAt" = ?, "decidedAt" = NULL, "decidedBy" = NULL, "decisionReason" = NULL,
           "partyBindings" = "partyBindings" || ?::text[]
         WHERE id = ? AND status = 'refused' AND outcome = 'refuse' AND "overriddenBy" IS NULL RETURNING 1`,
        [patch.personId, patch.reason, patch.escalateUntil, patch.partyEntries, id],
        otherwise,
      );
    } else {
      await this.actionWrite(
        `UPDATE "Action" SET "overriddenBy" = ?, "overrideReason" = ?, status = 'approved', "decidedAt" = ?
         WHERE id = ? AND status = 'refused' AND outcome = 'refuse' AND "overriddenBy" IS NULL RETURNING 1`,
        [patch.personId, patch.reason, patch.at, id],
        otherwise,
      );
    }
  }

  async insertApiKey(key: ApiKeyRecord): Promise<void> {
    await this.flush();
    await this.tx.execute`
      INSERT INTO "ApiKey" (id, prefix, "secretHash", "principalId", "principalKind", "principalBinding", "canDelegate", "delegateFor", "delegateBindings", label, "createdAt", "revokedAt", "lastUsedAt")
      VALUES (${key.id}, ${key.prefix}, ${key.secretHash}, ${key.principalId}, ${key.principalKind}::"PrincipalKind", ${key.principalBinding}, ${key.canDelegate},
        ${key.delegateFor}::text[], ${key.delegateBindings}::text[], ${key.label}, ${key.createdAt}, ${key.revokedAt}, ${key.lastUsedAt})`;
  }

  async revokeApiKey(id: string, at: Date): Promise<boolean> {
    await this.flush();
    const count = await this.tx.execute`UPDATE "ApiKey" SET "revokedAt" = ${at} WHERE id = ${id} AND "revokedAt" IS NULL`;
    if (count !== 1) return false;
    this.revokedKeys = true;
    // Transactional: other processes drop their cached keys as soon as the revocation commits.
    await this.tx.query`SELECT 1 AS notified FROM pg_notify(${KEYS_CHANNEL}, ${id})`;
    return true;
  }

  async appendArtifact(event: ArtifactEvent): Promise<SealedArtifact> {
    // The head row lock, taken by the first append and held to commit, serialises appends
    // across every process: the sequence stays gapless and each artifact links to the one
    // committed before it. Later appends of this transaction chain on locally; all are
    // written, with the new head, at the flush. `at` is read under the lock, and never earlier
    // than the artifact it follows.
    if (!this.chain) {
      // headKeyId: who signed the artifact this one follows (see signing-key-guard.ts). Taken
      // already, with the votes, when this transaction read them (votesFor).
      let h = this.head;
      if (!h) {
        [h] = await this.tx.query<HeadRow>`
          SELECT ${HEAD_COLUMNS}
          FROM "ArtifactHead" h WHERE h.id = 1 FOR UPDATE OF h`;
        if (!h) throw new Error('artifact chain head missing: migrations not applied');
      }
      const last = await assertActiveKeyMaySign(this.tx, this.keyring, { seq: Number(h.seq), keyId: h.headKeyId, at: h.headAt });
      this.chain = { seq: Number(h.seq), hash: h.hash, at: last.at };
    }
    const at = atOrAfter({ seq: this.chain.seq, keyId: null, at: this.chain.at }, this.now());
    const sealed = sealArtifact({ seq: this.chain.seq + 1, prevHash: this.chain.hash, at, event, key: this.keyring.active });
    this.chain = { seq: sealed.seq, hash: sealed.hash, at };
    this.sealed.push(sealed);
    return sealed;
  }

  async recordConfigVersion(file: 'policy' | 'directory', digest: string): Promise<{ isNew: boolean; previousDigest: string | null }> {
    await this.flush();
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
    this.decisions.push(actionId);
  }

  async emit(event: GateEvent): Promise<void> {
    this.events.push(event);
  }

  async hasArtifact(actionId: string, kind: ArtifactKind): Promise<boolean> {
    await this.flush();
    const rows = await this.tx.query<{ seq: string }>`SELECT seq FROM "Artifact" WHERE "actionId" = ${actionId} AND kind = ${kind} LIMIT 1`;
    return rows.length > 0;
  }

  async findRedemption(q: { actionId: string; audience: string; tokenId: string }): Promise<RedemptionRecord | null> {
    await this.flush();
    const rows = await this.tx.query<RedemptionRow>`
      SELECT * FROM "ReleaseRedemption" WHERE ("actionId" = ${q.actionId} AND audience = ${q.audience}) OR jti = ${q.tokenId} LIMIT 1`;
    return rows[0] ? toRedemptionRecord(rows[0]) : null;
  }

  async insertRedemption(r: RedemptionRecord): Promise<void> {
    this.pending.add({
      sql: `INSERT INTO "ReleaseRedemption" (jti, "actionId", audience, "redeemedBy", "redeemedAt") VALUES (?, ?, ?, ?, ?) RETURNING 1`,
      values: [r.tokenId, r.actionId, r.audience, r.redeemedBy, r.redeemedAt],
      expect: { rows: 1, otherwise: `redemption ${r.tokenId} was not written` },
    });
  }

  async isKeyActive(keyId: string): Promise<boolean> {
    await this.flush();
    const rows = await this.tx.query<{ active: boolean }>`
      SELECT ("revokedAt" IS NULL) AS active FROM "ApiKey" WHERE id = ${keyId}`;
    return rows[0]?.active === true;
  }
}
