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
});
