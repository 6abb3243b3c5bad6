import type { SealedArtifact } from '@countersign/contracts';
import type { NewActionWrite } from '@countersign/core';
import { sealArtifact, type Keyring } from '@countersign/evidence';
import type { ChainHead } from './known-head-append.ts';
import { assertActiveKeyMaySign, atOrAfter } from './signing-key-guard.ts';
import { OUTBOX_CHANNEL, type TxClient } from './gate-tx.ts';
import { SqlFragment, sqlStatement } from './sql.ts';

/** The Action columns a new action writes: both ways of appending a batch insert these. */
export const ACTION_COLUMNS = new SqlFragment(`id, status, outcome, "actorId", "actorKind", "ownerId", "onBehalfOf", "apiKeyId", intent, "intentHash",
  "actionType", "policyDigest", "ruleIds", reasons, requirement, "overrideRoles", "expiresAt", "createdAt",
  "decidedAt", "decidedBy", "decisionReason", "overriddenBy", "overrideReason", "idempotencyKey", "requestHash", "partyBindings"`);

/** The unique index that makes an Idempotency-Key name at most one action per API key. */
export const IDEMPOTENCY_CONSTRAINT = 'Action_apiKeyId_idempotencyKey_key';

/** What one batch wrote, for each write in order. */
export interface AppendedActions {
  /** The sealed artifact; 'taken' when its Idempotency-Key was already used, 'revoked' when its API key is revoked. */
  artifacts: (SealedArtifact | 'taken' | 'revoked')[];
  /** The isolation level the transaction ran at (as Postgres names it). */
  isolation: string;
  /** The head this batch found. */
  before: { seq: number; hash: string };
  /** The head it left, when it appended (its last artifact's). */
  after?: ChainHead;
}

/**
 * Inside one transaction, writes a batch of new actions, their outbox events and their first
 * artifacts. Nothing is written for a write whose (apiKeyId, idempotencyKey) was already
 * taken or whose API key has been revoked.
 *
 * Each statement carries all of the batch's rows as one JSON parameter that Postgres expands
 * (json_populate_recordset), so a batch costs the same few round trips whatever its size:
 * every round trip counts, because batches follow each other through the head row lock.
 */
export async function appendNewActions(
  tx: TxClient,
  writes: readonly NewActionWrite[],
  keyring: Keyring,
  now: () => Date,
): Promise<AppendedActions> {
  const head = await insertActionsAndLockHead(tx, writes);
  const inserted = new Set(head.ids);
  const revoked = new Set(head.revokedKeys);
  const kept = writes.filter((w) => inserted.has(w.action.id));
  const outcome = (w: NewActionWrite, sealed?: Map<string, SealedArtifact>) =>
    sealed?.get(w.action.id) ?? (revoked.has(w.action.apiKeyId) ? 'revoked' : 'taken');
  const before = { seq: Number(head.seq) - head.ids.length, hash: head.hash };
  if (kept.length === 0) return { artifacts: writes.map((w) => outcome(w)), isolation: head.isolation, before };
  // The head as it was before this batch reserved its sequence numbers.
  const followed = await assertActiveKeyMaySign(tx, keyring, { seq: before.seq, keyId: head.headKeyId, at: head.headAt });

  // Read under the head lock, and never earlier than the artifact it follows.
  const at = atOrAfter(followed, now());
  let seq = Number(head.seq) - kept.length;
  let prevHash = head.hash;
  const sealed = new Map<string, SealedArtifact>();
  for (const w of kept) {
    seq += 1;
    const artifact = sealArtifact({ seq, prevHash, at, event: w.artifact, key: keyring.active });
    sealed.set(w.action.id, artifact);
    prevHash = artifact.hash;
  }
  const artifacts = JSON.stringify([...sealed.values()]);
  const events = kept.flatMap((w) => w.events).map((e) => ({ type: e.type, actionId: e.actionId, payload: e }));
  // The artifacts, the new head and (escalations) the outbox events in one statement: the
  // head lock is held from the statement above to COMMIT, so a round trip fewer here is
  // shorter for every batch waiting behind this one. NOTIFY is transactional: the dispatcher
  // hears of the events only once they commit.
  const last = sqlStatement`
    WITH ins AS (
      INSERT INTO "Artifact" (seq, kind, "actionId", at, canonical, hash, "prevHash", signature, "keyId")
      SELECT seq, kind, "actionId", at, canonical, hash, "prevHash", signature, "keyId"
      FROM json_to_recordset(${artifacts}::json)
        AS a(seq bigint, kind text, "actionId" text, at timestamptz, canonical text, hash text, "prevHash" text, signature text, "keyId" text)
    ),
    outbox AS (
      INSERT INTO "OutboxEvent" (type, "actionId", payload)
      SELECT type, "actionId", payload FROM json_to_recordset(${JSON.stringify(events)}::json) AS e(type text, "actionId" text, payload jsonb)
      RETURNING "actionId"
    )
    UPDATE "ArtifactHead" SET hash = ${prevHash}, "lastSeq" = ${seq}, "lastKeyId" = ${keyring.active.keyId}, "lastAt" = ${at}
    WHERE id = 1
    RETURNING (SELECT count(pg_notify(${OUTBOX_CHANNEL}, "actionId")) FROM outbox) AS notified`;
  // The batch's last statement: COMMIT rides along where the runner can (one round trip less
  // under the head lock); a failure stops before the COMMIT and the transaction rolls back.
  if (tx.queryTextAndCommit) await tx.queryTextAndCommit(last.text, last.values);
  else await tx.queryText(last.text, last.values);
  return {
    artifacts: writes.map((w) => outcome(w, sealed)),
    isolation: head.isolation,
    before,
    after: { seq, hash: prevHash, keyId: keyring.active.keyId, at },
  };
}

/**
 * Inserts the actions, then takes the chain head row lock and reserves one seq per inserted
 * action, in one statement. An action whose API key is revoked by now is not inserted: API
 * keys are cached per process (see ApiKeyCache), and this makes sure that no decision is
 * recorded under a key whose revocation committed before the batch, whether or not this
 * process has heard of it yet. The head UPDATE needs the insert's row count, so it locks the
 * head only once every insert is done: a batch waiting on another transaction's
 * Idempotency-Key never holds the head meanwhile. The head row lock serialises appends across
 * every process: seq stays gapless and each artifact links to the one committed before it.
 * The signer and time of the artifact it followed come from the head row (gate-tx.ts,
 * HEAD_COLUMNS): after waiting for the lock, a subquery on "Artifact" would not see it.
 */
async function insertActionsAndLockHead(
  tx: TxClient,
  writes: readonly NewActionWrite[],
): Promise<{ ids: string[]; revokedKeys: string[]; seq: string; hash: string; headKeyId: string | null; headAt: Date | null; isolation: string }> {
  // Sorted by (key, Idempotency-Key) so that two transactions inserting the same keys wait
  // for each other in the same order and cannot deadlock. The sort is stable: within a
  // batch, the first submission of an Idempotency-Key wins.
  const actions = writes
    .map((w) => w.action)
    .sort((a, b) => compare(a.apiKeyId, b.apiKeyId) || compare(a.idempotencyKey ?? '', b.idempotencyKey ?? ''));
  const rows = await tx.query<{ ids: string[]; revokedKeys: string[]; seq: string; hash: string; headKeyId: string | null; headAt: Date | null; isolation: string }>`
    WITH batch AS (
      SELECT * FROM json_populate_recordset(NULL::"Action", ${JSON.stringify(actions)}::json)
    ),
    revoked AS (
      SELECT id FROM "ApiKey" WHERE "revokedAt" IS NOT NULL AND id IN (SELECT "apiKeyId" FROM batch)
    ),
    ins AS (
      INSERT INTO "Action" (${ACTION_COLUMNS})
      SELECT ${ACTION_COLUMNS}
      FROM batch
      WHERE "apiKeyId" NOT IN (SELECT id FROM revoked)
      ON CONFLICT ("apiKeyId", "idempotencyKey") DO NOTHING
      RETURNING id
    )
    UPDATE "ArtifactHead" SET seq = seq + (SELECT count(*) FROM ins)
    WHERE id = 1
    RETURNING array(SELECT id FROM ins) AS ids, array(SELECT id FROM revoked) AS "revokedKeys", seq, hash,
      CASE WHEN "lastSeq" = seq - (SELECT count(*) FROM ins) THEN "lastKeyId" END AS "headKeyId",
      CASE WHEN "lastSeq" = seq - (SELECT count(*) FROM ins) THEN "lastAt" END AS "headAt",
      current_setting('transaction_isolation') AS isolation`;
  const head = rows[0];
  if (!head) throw new Error('artifact chain head missing: migrations not applied');
  return head;
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
