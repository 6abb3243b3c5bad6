import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPrismaClient, sqlOf, type PrismaClient } from '../src/client.ts';
import { PendingWrites } from '../src/pending-writes.ts';
import { SqlFragment, sqlStatement } from '../src/sql.ts';
import { freshDatabase, type TestDatabase } from '../../../test/support/database.ts';

// Sql.transaction (sql.ts) on a real Postgres: a connection that dies mid-transaction fails
// that transaction only (no unhandled 'error' event taking the process down, the pool goes
// on), and a transaction Postgres already aborted never reports success.

let db: TestDatabase;
let prisma: PrismaClient;

beforeAll(async () => {
  db = await freshDatabase();
  prisma = createPrismaClient(db.url, { max: 2 });
});
afterAll(async () => {
  await prisma?.$disconnect();
  await db?.drop();
});

describe('Sql.transaction', () => {
  it('fails the transaction whose connection Postgres ends, and the pool serves the next one', async () => {
    const sql = sqlOf(prisma);
    const unhandled: unknown[] = [];
    const onUncaught = (err: unknown) => unhandled.push(err);
    process.on('uncaughtException', onUncaught);
    try {
      for (let i = 0; i < 3; i++) {
        // The backend ends its own connection, as a restart or failover would.
        const outcome = await sql
          .transaction(async (tx) => {
            await tx.query`SELECT pg_terminate_backend(pg_backend_pid())`;
            return 'committed';
          })
          .catch((err: Error) => err);
        expect(outcome).toBeInstanceOf(Error);
      }
      await new Promise((r) => setTimeout(r, 100));
      expect(unhandled).toEqual([]);
      expect(await sql.transaction(async (tx) => (await tx.query<{ n: number }>`SELECT 1::int AS n`)[0]!.n)).toBe(1);
    } finally {
      process.off('uncaughtException', onUncaught);
    }
  });

  it('rejects when a statement failed inside and the caller swallowed it: COMMIT answered ROLLBACK', async () => {
    const sql = sqlOf(prisma);
    const outcome = await sql
      .transaction(async (tx) => {
        await tx.query`SELECT 1/0 AS boom`.catch(() => undefined);
        return 'committed';
      })
      .catch((err: Error) => err);
    expect(outcome).toBeInstanceOf(Error);
    expect((outcome as Error).message).toMatch(/rolled back/);
  });

  it('BEGIN rides with the first statement and COMMIT with the last: one transaction, all or nothing', async () => {
    const sql = sqlOf(prisma);
    const ids = async () => (await sql.query<{ digest: string }>`SELECT digest FROM "ConfigVersion" WHERE file = 'pipelined' ORDER BY digest`).map((r) => r.digest);
    // Both statements in one transaction: the second sees the first's row, nobody else sees
    // either before COMMIT.
    const seen = await sql.transaction(async (tx) => {
      await tx.execute`INSERT INTO "ConfigVersion" (file, digest) VALUES ('pipelined', ${'1'})`;
      const outside = await ids();
      const rows = await tx.queryTextAndCommit!<{ n: number }>(
        `INSERT INTO "ConfigVersion" (file, digest) VALUES ('pipelined', $1) RETURNING (SELECT count(*)::int FROM "ConfigVersion" WHERE file = 'pipelined') AS n`,
        ['2'],
      );
      return { outside, inside: rows[0]!.n };
    });
    expect(seen).toEqual({ outside: [], inside: 1 });
    expect(await ids()).toEqual(['1', '2']);

    // The last statement fails: its COMMIT never runs, and the first statement's row is gone too.
    const failed = await sql
      .transaction(async (tx) => {
        await tx.execute`INSERT INTO "ConfigVersion" (file, digest) VALUES ('pipelined', ${'3'})`;
        await tx.queryTextAndCommit!(`INSERT INTO "ConfigVersion" (file, digest) VALUES ('pipelined', $1)`, ['1']);
      })
      .catch((err: Error) => err);
    expect(failed).toBeInstanceOf(Error);
    expect(await ids()).toEqual(['1', '2']);

    // The first statement (sent with its BEGIN) fails: the transaction ends there.
    const first = await sql
      .transaction(async (tx) => {
        await tx.execute`INSERT INTO "ConfigVersion" (file, digest) VALUES ('pipelined', ${'2'})`;
      })
      .catch((err: Error) => err);
    expect(first).toBeInstanceOf(Error);
    // Nothing after COMMIT can slip in outside the transaction.
    const after = await sql
      .transaction(async (tx) => {
        await tx.queryTextAndCommit!(`INSERT INTO "ConfigVersion" (file, digest) VALUES ('pipelined', $1)`, ['4']);
        await tx.execute`INSERT INTO "ConfigVersion" (file, digest) VALUES ('pipelined', ${'5'})`;
      })
      .catch((err: Error) => err);
    expect((after as Error).message).toMatch(/after this transaction committed/);
    expect(await ids()).toEqual(['1', '2', '4']);
    // Every pooled connection is back outside any transaction (Postgres' own view of every session).
    const [open] = await sql.query<{ n: number }>`
      SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND state LIKE 'idle in transaction%'`;
    expect(open!.n).toBe(0);
  });

  it('a pending write whose row count is wrong stops the statement before its COMMIT (checked by Postgres)', async () => {
    const sql = sqlOf(prisma);
    const ids = async () => (await sql.query<{ digest: string }>`SELECT digest FROM "ConfigVersion" WHERE file = 'pending' ORDER BY digest`).map((r) => r.digest);
    await sql.execute`INSERT INTO "ConfigVersion" (file, digest) VALUES ('pending', 'a')`;
    const writes = (pending: PendingWrites, second: string) => {
      pending.add({ sql: `INSERT INTO "ConfigVersion" (file, digest) VALUES ('pending', ?) RETURNING 1`, values: ['b'], expect: { rows: 1, otherwise: 'b was not written' } });
      // Writes nothing when its row exists (as a final-state UPDATE of an action already decided
      // would): the expectation must abort everything, the first write included.
      pending.add({ sql: `INSERT INTO "ConfigVersion" (file, digest) VALUES ('pending', ?) ON CONFLICT DO NOTHING RETURNING 1`, values: [second], expect: { rows: 1, otherwise: `${second} was already there` } });
    };
    const outcome = await sql
      .transaction(async (tx) => {
        const pending = new PendingWrites();
        writes(pending, 'a');
        await pending.flush(tx, { commit: true });
      })
      .catch((err: Error) => err);
    expect((outcome as Error).message).toBe('a was already there');
    expect(await ids()).toEqual(['a']);
    // The same writes with every expectation met commit together.
    await sql.transaction(async (tx) => {
      const pending = new PendingWrites();
      writes(pending, 'c');
      await pending.flush(tx, { commit: true });
    });
    expect(await ids()).toEqual(['a', 'b', 'c']);
  });

  it('another invalid-input error whose text holds the check\'s mark is passed on as it is', async () => {
    const sql = sqlOf(prisma);
    const outcome = await sql
      .transaction(async (tx) => {
        const pending = new PendingWrites();
        pending.add({ sql: `INSERT INTO "ConfigVersion" (file, digest) VALUES ('marked', ?) RETURNING 1`, values: ['m'], expect: { rows: 1, otherwise: 'm was not written' } });
        pending.add({ sql: `SELECT ?::uuid`, values: ['countersign-write-check 0 1'] });
        await pending.flush(tx, { commit: true });
      })
      .catch((err: Error) => err);
    expect((outcome as Error).message).toMatch(/invalid input syntax for type uuid/);
    expect(await sql.query`SELECT 1 FROM "ConfigVersion" WHERE file = 'marked'`).toEqual([]);
  });

  it('a SqlFragment goes into the statement as text; the values around it stay parameters, numbered in order', async () => {
    const columns = new SqlFragment('a, b');
    const built = sqlStatement`SELECT ${columns} FROM (SELECT ${1}::int AS a, ${'two'}::text AS b) t GROUP BY ${columns} HAVING count(*) = ${3}`;
    expect(built.text).toBe('SELECT a, b FROM (SELECT $1::int AS a, $2::text AS b) t GROUP BY a, b HAVING count(*) = $3');
    expect(built.values).toEqual([1, 'two', 3]);
    const rows = await sqlOf(prisma).query<{ a: number; b: string }>`SELECT ${columns} FROM (SELECT ${1}::int AS a, ${'two'}::text AS b) t`;
    expect(rows).toEqual([{ a: 1, b: 'two' }]);
    // Without a fragment, the text is as it always was.
    expect(sqlStatement`SELECT ${1}::int, ${2}::int`).toEqual({ text: 'SELECT $1::int, $2::int', values: [1, 2] });
  });
});
