import type { SealedArtifact } from '@countersign/contracts';
import type { NewActionWrite } from '@countersign/core';
import { sealArtifact, type Keyring } from '@countersign/evidence';
import { OUTBOX_CHANNEL, type TxClient } from './gate-tx.ts';
import { ACTION_COLUMNS } from './new-action-sql.ts';
import { sqlStatement } from './sql.ts';

/** The chain's head as this process last committed it. */
export interface ChainHead {
  seq: number;
  hash: string;
  /** The key that signed the artifact at `seq`. */
  keyId: string;
  /** That artifact's time: the next one is never earlier. */
  at: Date;
}

/**
 * What the statement raises (as a failed cast to int, SQLSTATE 22P02: plain SQL has no RAISE)
 * when the head was not where the batch expected it or an action was not inserted. Expected
 * now and then (another process appended): Postgres logs it as an ERROR, "invalid input syntax
 * for type integer" with this text, which log alerting can leave out.
 */
export const HEAD_MOVED = 'countersign: the chain head moved';

/**
 * Appends a batch of new actions on the head this process committed last, in one statement
 * that Postgres answers only once: the artifacts are sealed before the statement is sent, so
 * the head row lock is held for the statement's own work and its COMMIT, not for a round trip
 * and the sealing in between (see appendNewActions, the path that reads the head first).
 *
 * The statement moves the head only if it is still at `head` and every action was inserted
 * (none revoked, no Idempotency-Key taken), and then inserts the artifacts and outbox events;
 * otherwise it raises HEAD_MOVED and nothing commits. The caller then appends the same batch
 * through appendNewActions, which sorts out what changed. Inserting the actions first keeps a
 * wait on another transaction's Idempotency-Key outside the head lock, as there.
 *
 * Precondition: `head.keyId` is the keyring's active key (the signing-key guard had nothing to
 * ask about: the same key signs on). A key rotated elsewhere moves the head.
 */
export async function appendOnKnownHead(
  tx: TxClient,
  writes: readonly NewActionWrite[],
  keyring: Keyring,
  at: Date,
  head: ChainHead,
): Promise<{ artifacts: SealedArtifact[]; head: ChainHead }> {
  let seq = head.seq;
  let prevHash = head.hash;
  const artifacts: SealedArtifact[] = [];
  for (const w of writes) {
    seq += 1;
    const artifact = sealArtifact({ seq, prevHash, at, event: w.artifact, key: keyring.active });
    artifacts.push(artifact);
    prevHash = artifact.hash;
  }
  // Same order as appendNewActions (stable sort by key and Idempotency-Key): two transactions
  // inserting the same keys wait for each other in the same order and cannot deadlock.
  const actions = writes
    .map((w) => w.action)
    .sort((a, b) => compare(a.apiKeyId, b.apiKeyId) || compare(a.idempotencyKey ?? '', b.idempotencyKey ?? ''));
  const events = writes.flatMap((w) => w.events).map((e) => ({ type: e.type, actionId: e.actionId, payload: e }));
  // Data-modifying CTEs all run to completion; the order among them follows what each reads:
  // ins → head (its SET counts ins, before the UPDATE takes the row lock) → art and outbox
  // (theirs read head). So the head row is locked after the actions are in, and nothing of the
  // chain is written unless it moved. (The seq primary key would also refuse artifacts on a
  // head someone else moved.)
  const statement = sqlStatement`
    WITH batch AS (
      SELECT * FROM json_populate_recordset(NULL::"Action", ${JSON.stringify(actions)}::json)
    ),
    ins AS (
      INSERT INTO "Action" (${ACTION_COLUMNS})
      SELECT ${ACTION_COLUMNS}
      FROM batch
      WHERE NOT EXISTS (SELECT 1 FROM "ApiKey" k WHERE k.id = batch."apiKeyId" AND k."revokedAt" IS NOT NULL)
      ON CONFLICT ("apiKeyId", "idempotencyKey") DO NOTHING
      RETURNING id
    ),
    expected AS (
      SELECT (SELECT count(*) FROM ins) = ${writes.length} AS inserted
    ),
    head AS (
      UPDATE "ArtifactHead" SET
        seq = CASE WHEN seq = ${head.seq} AND hash = ${head.hash} AND (SELECT inserted FROM expected) THEN ${seq} ELSE seq END,
        hash = CASE WHEN seq = ${head.seq} AND hash = ${head.hash} AND (SELECT inserted FROM expected) THEN ${prevHash} ELSE hash END,
        "lastSeq" = CASE WHEN seq = ${head.seq} AND hash = ${head.hash} AND (SELECT inserted FROM expected) THEN ${seq} ELSE "lastSeq" END,
        "lastKeyId" = CASE WHEN seq = ${head.seq} AND hash = ${head.hash} AND (SELECT inserted FROM expected) THEN ${keyring.active.keyId} ELSE "lastKeyId" END,
        "lastAt" = CASE WHEN seq = ${head.seq} AND hash = ${head.hash} AND (SELECT inserted FROM expected) THEN ${at} ELSE "lastAt" END
      WHERE id = 1
      RETURNING seq, hash
    ),
    moved AS (
      SELECT 1 FROM head WHERE seq = ${seq} AND hash = ${prevHash}
    ),
    art AS (
      INSERT INTO "Artifact" (seq, kind, "actionId", at, canonical, hash, "prevHash", signature, "keyId")
      SELECT seq, kind, "actionId", at, canonical, hash, "prevHash", signature, "keyId"
      FROM json_to_recordset(${JSON.stringify(artifacts)}::json)
        AS a(seq bigint, kind text, "actionId" text, at timestamptz, canonical text, hash text, "prevHash" text, signature text, "keyId" text)
      WHERE EXISTS (SELECT 1 FROM moved)
      RETURNING seq
    ),
    outbox AS (
      INSERT INTO "OutboxEvent" (type, "actionId", payload)
      SELECT type, "actionId", payload FROM json_to_recordset(${JSON.stringify(events)}::json) AS e(type text, "actionId" text, payload jsonb)
      WHERE EXISTS (SELECT 1 FROM moved)
      RETURNING "actionId"
    )
    SELECT (CASE WHEN (SELECT count(*) FROM moved) = 1 AND (SELECT count(*) FROM art) = ${writes.length} THEN NULL ELSE ${HEAD_MOVED} END)::int AS moved,
      (SELECT count(pg_notify(${OUTBOX_CHANNEL}, "actionId")) FROM outbox) AS notified`;
  // COMMIT rides along where the runner can: a failed statement never reaches it.
  if (tx.queryTextAndCommit) await tx.queryTextAndCommit(statement.text, statement.values);
  else await tx.queryText(statement.text, statement.values);
  return { artifacts, head: { seq, hash: prevHash, keyId: keyring.active.keyId, at } };
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
