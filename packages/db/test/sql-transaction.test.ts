import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPrismaClient, sqlOf, type PrismaClient } from '../src/client.ts';
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
});
