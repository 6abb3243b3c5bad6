import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PgDecisionBus } from '../src/decision-bus.ts';
import { freshDatabase, type TestDatabase } from '../../../test/support/database.ts';

// The decision bus on a real Postgres LISTEN connection: closing it wakes every waiter, and a
// wait that starts after it closed (a long-poll arriving while the process stops) is woken at
// once rather than holding the server's shutdown for its whole wait.

let db: TestDatabase;
beforeAll(async () => {
  db = await freshDatabase();
});
afterAll(async () => {
  await db?.drop();
});

describe('PgDecisionBus', () => {
  it('wakes waiters when it closes, and wakes at once a wait that starts after', async () => {
    const bus = new PgDecisionBus(db.url);
    await bus.start();
    let before = 0;
    bus.subscribe('act_1', () => before++);
    await bus.close();
    expect(before).toBe(1);
    const woken = await new Promise<string>((resolve) => {
      const timer = setTimeout(() => resolve('still waiting'), 2_000);
      bus.subscribe('act_2', () => {
        clearTimeout(timer);
        resolve('woken');
      });
    });
    expect(woken).toBe('woken');
    expect(bus.waiting).toBe(0);
  });

  it('wakes a wait that began while its connection was down once it is back (a decision may have gone by unheard)', async () => {
    const bus = new PgDecisionBus(db.url);
    await bus.start();
    const admin = new pg.Client({ connectionString: db.url });
    await admin.connect();
    try {
      // Postgres ends the bus's LISTEN connection, as a failover would.
      await admin.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query LIKE 'LISTEN%' AND pid <> pg_backend_pid()`);
      const gone = Date.now() + 5_000;
      while ((bus as unknown as { client?: unknown }).client !== undefined && Date.now() < gone) await new Promise((r) => setTimeout(r, 10));
      expect((bus as unknown as { client?: unknown }).client).toBeUndefined();
      // A long-poll subscribes while the bus is deaf; its decision commits before LISTEN is back.
      const woken = new Promise<string>((resolve) => {
        const timer = setTimeout(() => resolve('still waiting'), 5_000);
        bus.subscribe('act_missed', () => {
          clearTimeout(timer);
          resolve('woken');
        });
      });
      await admin.query(`SELECT pg_notify('countersign_decisions', 'act_missed')`);
      expect(await woken).toBe('woken');
    } finally {
      await admin.end();
      await bus.close();
    }
  });
});
