import { DomainError, type SealedArtifact } from '@countersign/contracts';
import type { ActionRecord, ApiKeyRecord, GateStore, GateTx, NewActionWrite, VoteRecord } from '@countersign/core';
import type { Keyring } from '@countersign/evidence';
import type { ApiKeyCache } from './api-key-cache.ts';
import { PgGateTx } from './gate-tx.ts';
import { NewActionWriter } from './new-action-writer.ts';
import { toActionRecord, toApiKeyRecord, toSealedArtifact, toVoteRecord, type ActionRow, type ApiKeyRow, type ArtifactRow, type VoteRow } from './rows.ts';
import type { Sql } from './sql.ts';
import { asUniqueViolation } from './unique-violation.ts';

/** The engine's system of record on Postgres, in plain SQL (every decision runs through it). */
export interface PgGateStoreOptions {
  /** Caches API keys for authentication; only safe when the cache is also on the decision bus. */
  keyCache?: ApiKeyCache;
}

export class PgGateStore implements GateStore {
  private readonly newActions: NewActionWriter;
  private readonly keyCache: ApiKeyCache | undefined;

  constructor(
    private readonly sql: Sql,
    private readonly keyring: Keyring,
    private readonly now: () => Date = () => new Date(),
    options: PgGateStoreOptions = {},
  ) {
    this.newActions = new NewActionWriter(sql, keyring, now);
    this.keyCache = options.keyCache;
  }

  async transaction<T>(fn: (tx: GateTx) => Promise<T>): Promise<T> {
    let gateTx: PgGateTx | undefined;
    try {
      return await this.sql.transaction(
        async (tx) => {
          const result = await fn((gateTx = new PgGateTx(tx, this.keyring, this.now)));
          // Writes the transaction deferred go out with its COMMIT (see PgGateTx.pending).
          await gateTx.flushAndCommit();
          return result;
        },
        { readCommitted: true },
      );
    } catch (err) {
      throw asUniqueViolation(err) ?? err;
    } finally {
      // A revocation is refused from this process the moment it commits; the NOTIFY sent with
      // it tells the others. (Also after a failed commit: forgetting is always safe.)
      if (gateTx?.revokedKeys) this.keyCache?.invalidate();
    }
  }

  /** How new actions' batches were appended so far (see NewActionWriter). */
  get newActionBatches(): Readonly<NewActionWriter['batches']> {
    return this.newActions.batches;
  }

  async insertNewAction(write: NewActionWrite): Promise<SealedArtifact> {
    try {
      return await this.newActions.write(write);
    } catch (err) {
      // The key was revoked without this process hearing of it (yet): stop trusting the cache.
      if (err instanceof DomainError && err.code === 'unauthenticated') this.keyCache?.invalidate();
      throw err;
    }
  }

  async findAction(id: string): Promise<ActionRecord | null> {
    const [row] = await this.sql.query<ActionRow>`SELECT * FROM "Action" WHERE id = ${id}`;
    return row ? toActionRecord(row) : null;
  }

  async findByIdempotencyKey(apiKeyId: string, key: string): Promise<ActionRecord | null> {
    const [row] = await this.sql.query<ActionRow>`SELECT * FROM "Action" WHERE "apiKeyId" = ${apiKeyId} AND "idempotencyKey" = ${key}`;
    return row ? toActionRecord(row) : null;
  }

  async votesFor(actionId: string): Promise<VoteRecord[]> {
    const rows = await this.sql.query<VoteRow>`SELECT * FROM "Vote" WHERE "actionId" = ${actionId} ORDER BY "createdAt", id`;
    return rows.map(toVoteRecord);
  }

  async findActionWithVotes(id: string): Promise<{ action: ActionRecord; votes: VoteRecord[] } | null> {
    // One round trip: the votes ride along as JSON (timestamps as text, turned back into Dates).
    const [row] = await this.sql.query<ActionRow & { votes: (Omit<VoteRow, 'createdAt'> & { createdAt: string })[] }>`
      SELECT a.*, COALESCE((SELECT json_agg(v ORDER BY v."createdAt", v.id) FROM "Vote" v WHERE v."actionId" = a.id), '[]'::json) AS votes
      FROM "Action" a WHERE a.id = ${id}`;
    if (!row) return null;
    const { votes, ...action } = row;
    return { action: toActionRecord(action), votes: votes.map((v) => toVoteRecord({ ...v, createdAt: new Date(v.createdAt) })) };
  }

  async addPartyBindings(actionId: string, entries: readonly string[], approversAtMark: readonly string[] = []): Promise<void> {
    // One statement: entries already there (another job run, a pin recorded at submission) are
    // left out, so retries never grow the array; the approvers recorded with an unmatched mark
    // are written with it, the first snapshot kept. The row lock orders it with castVote's.
    await this.sql.query`
      UPDATE "Action" SET "partyBindings" = COALESCE("partyBindings", '{}') ||
        ARRAY(SELECT DISTINCT e FROM unnest(${[...entries]}::text[]) AS e WHERE e <> ALL(COALESCE("partyBindings", '{}'))),
        "approversAtMark" = CASE WHEN cardinality(COALESCE("approversAtMark", '{}')) = 0 THEN ${[...approversAtMark]}::text[] ELSE "approversAtMark" END
      WHERE id = ${actionId}`;
  }

  async latestArtifactFor(actionId: string): Promise<SealedArtifact | null> {
    const [row] = await this.sql.query<ArtifactRow>`SELECT * FROM "Artifact" WHERE "actionId" = ${actionId} ORDER BY seq DESC LIMIT 1`;
    return row ? toSealedArtifact(row) : null;
  }

  async findApiKeyByPrefix(prefix: string): Promise<ApiKeyRecord | null> {
    const cached = this.keyCache?.get(prefix);
    if (cached) return cached;
    const ticket = this.keyCache?.ticket();
    const [row] = await this.sql.query<ApiKeyRow>`SELECT * FROM "ApiKey" WHERE prefix = ${prefix}`;
    if (!row) return null;
    const key = toApiKeyRecord(row);
    if (ticket !== undefined) this.keyCache?.remember(ticket, key);
    return key;
  }

  async findApiKeyById(id: string): Promise<ApiKeyRecord | null> {
    const [row] = await this.sql.query<ApiKeyRow>`SELECT * FROM "ApiKey" WHERE id = ${id}`;
    return row ? toApiKeyRecord(row) : null;
  }

  async touchApiKey(id: string, at: Date): Promise<void> {
    await this.sql.execute`UPDATE "ApiKey" SET "lastUsedAt" = ${at} WHERE id = ${id}`;
  }

  async bindDelegateScope(id: string, bindings: readonly string[]): Promise<string[]> {
    // Only an unbound scope is written, so two processes binding at once agree on the first.
    const rows = await this.sql.query<{ delegateBindings: string[] }>`
      UPDATE "ApiKey" SET "delegateBindings" = CASE WHEN cardinality("delegateBindings") = 0 THEN ${[...bindings]}::text[] ELSE "delegateBindings" END
      WHERE id = ${id}
      RETURNING "delegateBindings"`;
    if (!rows[0]) throw new Error(`no API key ${id} to bind`);
    return rows[0].delegateBindings;
  }

  async bindApiKey(id: string, binding: string): Promise<string> {
    // COALESCE: the first binding written wins, so two processes binding at once agree.
    const rows = await this.sql.query<{ principalBinding: string }>`
      UPDATE "ApiKey" SET "principalBinding" = COALESCE("principalBinding", ${binding}) WHERE id = ${id}
      RETURNING "principalBinding"`;
    const bound = rows[0]?.principalBinding;
    if (bound === undefined) throw new Error(`no API key ${id} to bind`);
    return bound;
  }

  async dueForExpiry(now: Date, limit: number): Promise<string[]> {
    const rows = await this.sql.query<{ id: string }>`
      SELECT id FROM "Action" WHERE status = 'pending' AND "expiresAt" <= ${now} ORDER BY "expiresAt" LIMIT ${limit}`;
    return rows.map((r) => r.id);
  }

  async listApiKeys(): Promise<ApiKeyRecord[]> {
    const rows = await this.sql.query<ApiKeyRow>`SELECT * FROM "ApiKey" ORDER BY "createdAt", id`;
    return rows.map(toApiKeyRecord);
  }
}
