import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StatementNames } from '../src/prepared-statements.ts';
import { Sql } from '../src/sql.ts';
import { emptyDatabase, type TestDatabase } from '../../../test/support/database.ts';

// Named prepared statements (prepared-statements.ts) on a real Postgres: every way sql.ts sends
// a statement prepares it once per connection; a migration that changes a table under a
// `SELECT *` does not fail the query or the transaction that meets the stale statement; a
// statement whose Parse failed is not taken for prepared; off means unnamed.

let db: TestDatabase;
const pools: pg.Pool[] = [];

beforeAll(async () => {
  db = await emptyDatabase();
});
afterAll(async () => {
  await Promise.all(pools.map((p) => p.end()));
  await db?.drop();
});

/** A pool of ONE connection, so every statement meets the same backend. */
function oneConnection(names: StatementNames): Sql {
  const pool = new pg.Pool({ connectionString: db.url, max: 1 });
  pools.push(pool);
  return new Sql(pool, names);
}

/** DDL from another session, as a migration running beside the service would. */
async function migrate(ddl: string): Promise<void> {
  const other = new pg.Client({ connectionString: db.url });
  await other.connect();
  try {
    await other.query(ddl);
  } finally {
    await other.end();
  }
}

type Prepared = { name: string; statement: string };
const prepared = (sql: Sql) => sql.query<Prepared>`SELECT name, statement FROM pg_prepared_statements ORDER BY name`;


/** A value node-postgres cannot serialise (JSON.stringify throws on the cycle). */
function selfReferencing(): Record<string, unknown> {
  const value: Record<string, unknown> = {};
  value.self = value;
  return value;
}

describe('named prepared statements', () => {
  it('prepares each statement once per connection, on every path: pool, transaction, BEGIN and COMMIT riding along', async () => {
    const names = new StatementNames(true);
    const sql = oneConnection(names);
    await sql.query`CREATE TABLE prep_a (id int PRIMARY KEY, v text)`;
    for (let i = 0; i < 3; i++) {
      await sql.transaction(async (tx) => {
        // First statement: pipelined with BEGIN. Then a plain one. Last: with COMMIT.
        await tx.query`SELECT v FROM prep_a WHERE id = ${i}`;
        await tx.execute`INSERT INTO prep_a (id, v) VALUES (${i}, ${'x' + i})`;
        await tx.queryTextAndCommit!('UPDATE prep_a SET v = v || $1 WHERE id = $2 RETURNING v', ['!', i]);
      });
    }
    expect(await sql.query<{ v: string }>`SELECT v FROM prep_a ORDER BY id`).toEqual([{ v: 'x0!' }, { v: 'x1!' }, { v: 'x2!' }]);
    const onServer = await prepared(sql);
    const texts = onServer.map((p) => p.statement);
    expect(texts).toContain('SELECT v FROM prep_a WHERE id = $1');
    expect(texts).toContain('INSERT INTO prep_a (id, v) VALUES ($1, $2)');
    expect(texts).toContain('UPDATE prep_a SET v = v || $1 WHERE id = $2 RETURNING v');
    // Each once: three transactions did not prepare three copies (the names are fixed).
    expect(new Set(onServer.map((p) => p.name)).size).toBe(onServer.length);
    expect(onServer.every((p) => /^cs0_/.test(p.name))).toBe(true);
    expect(names.renewals).toBe(0);
  });

  it('a migration adding a column under SELECT *: the next query and the next transaction run, renamed, and see the column', async () => {
    const names = new StatementNames(true);
    const sql = oneConnection(names);
    await sql.query`CREATE TABLE prep_b (id int PRIMARY KEY)`;
    await sql.query`INSERT INTO prep_b VALUES (1)`;
    const read = () => sql.query<Record<string, unknown>>`SELECT * FROM prep_b WHERE id = ${1}`;
    const readInTx = () => sql.transaction(async (tx) => tx.query<Record<string, unknown>>`SELECT * FROM prep_b WHERE id = ${1} FOR UPDATE`);
    // Six runs each: past Postgres' five custom plans, onto the cached generic one.
    for (let i = 0; i < 6; i++) {
      expect(await read()).toEqual([{ id: 1 }]);
      expect(await readInTx()).toEqual([{ id: 1 }]);
    }
    // Another process migrates (this pool's connection keeps its prepared statements).
    await migrate(`ALTER TABLE prep_b ADD COLUMN note text DEFAULT 'n'`);
    // Unnamed, Postgres would answer "cached plan must not change result type" (0A000) here.
    expect(await readInTx()).toEqual([{ id: 1, note: 'n' }]);
    expect(names.renewals).toBe(1);
    expect(await read()).toEqual([{ id: 1, note: 'n' }]);
    expect(names.renewals).toBe(1);
  });

  it('the same on the pool without a transaction', async () => {
    const names = new StatementNames(true);
    const sql = oneConnection(names);
    await sql.query`CREATE TABLE prep_c (id int PRIMARY KEY)`;
    await sql.query`INSERT INTO prep_c VALUES (1)`;
    for (let i = 0; i < 6; i++) expect(await sql.query`SELECT * FROM prep_c`).toEqual([{ id: 1 }]);
    await migrate('ALTER TABLE prep_c ADD COLUMN b int DEFAULT 7');
    expect(await sql.query`SELECT * FROM prep_c`).toEqual([{ id: 1, b: 7 }]);
    expect(names.renewals).toBe(1);
  });

  it('a first statement whose Parse fails (riding with BEGIN) is not taken for prepared', async () => {
    const names = new StatementNames(true);
    const sql = oneConnection(names);
    const readLater = () => sql.transaction(async (tx) => tx.query<{ id: number }>`SELECT id FROM prep_later WHERE id = ${1}`);
    // No such table yet: the Parse fails, BEGIN never ran, nothing after it either.
    await expect(readLater()).rejects.toMatchObject({ code: '42P01' });
    await sql.query`CREATE TABLE prep_later (id int PRIMARY KEY)`;
    await sql.query`INSERT INTO prep_later VALUES (1)`;
    // Had node-postgres recorded the statement as prepared (BEGIN's ParseComplete arriving
    // first), this Bind would meet no statement (26000) and need a renewal.
    expect(await readLater()).toEqual([{ id: 1 }]);
    expect(names.renewals).toBe(0);
    // The same with COMMIT riding along after a failed Parse.
    await expect(sql.transaction(async (tx) => tx.queryTextAndCommit!('INSERT INTO prep_later2 VALUES ($1) RETURNING 1', [1]))).rejects.toMatchObject({ code: '42P01' });
    await sql.query`CREATE TABLE prep_later2 (id int PRIMARY KEY)`;
    await sql.transaction(async (tx) => tx.queryTextAndCommit!('INSERT INTO prep_later2 VALUES ($1) RETURNING 1', [1]));
    expect(await sql.query`SELECT id FROM prep_later2`).toEqual([{ id: 1 }]);
    expect(names.renewals).toBe(0);
  });

  it('off: nothing is prepared', async () => {
    const sql = oneConnection(new StatementNames(false));
    await sql.transaction(async (tx) => {
      await tx.query`SELECT 1 AS one`;
      await tx.queryTextAndCommit!('SELECT 2 AS two', []);
    });
    expect(await sql.query`SELECT 3 AS three`).toEqual([{ three: 3 }]);
    expect(await prepared(sql)).toEqual([]);
  });

  it('bounded: past its limit a text runs unnamed', async () => {
    const names = new StatementNames(true, 2);
    const sql = oneConnection(names);
    for (const n of [1, 2, 3, 4]) await sql.queryText(`SELECT ${n}::int AS n`, []);
    expect((await prepared(sql)).map((p) => p.statement).sort()).toEqual(['SELECT 1::int AS n', 'SELECT 2::int AS n']);
    expect(names.of('SELECT 5::int AS n')).toBeUndefined();
  });

  it('an isolation level asked at BEGIN still works where the database defaults to another: BEGIN goes before any Parse', async () => {
    const owner = new pg.Client({ connectionString: db.url });
    await owner.connect();
    await owner.query('CREATE TABLE prep_iso (id int PRIMARY KEY, v text)');
    await owner.query(`INSERT INTO prep_iso VALUES (1, 'a')`);
    await owner.end();
    // Every new connection of this pool starts at REPEATABLE READ (a database configured so).
    const pool = new pg.Pool({ connectionString: db.url, max: 1, options: '-c default_transaction_isolation=repeatable\\ read' });
    pools.push(pool);
    const names = new StatementNames(true);
    const sql = new Sql(pool, names);
    for (let i = 0; i < 2; i++) {
      // First statement riding with BEGIN, then one with BEGIN and COMMIT both.
      const first = await sql.transaction(
        async (tx) => (await tx.query<{ v: string; iso: string }>`SELECT v, current_setting('transaction_isolation') AS iso FROM prep_iso WHERE id = ${1}`)[0],
        { readCommitted: true },
      );
      expect(first).toEqual({ v: 'a', iso: 'read committed' });
      const only = await sql.transaction(
        (tx) => tx.queryTextAndCommit!<{ iso: string }>(`UPDATE prep_iso SET v = v WHERE id = $1 RETURNING current_setting('transaction_isolation') AS iso`, [1]),
        { readCommitted: true },
      );
      expect(only).toEqual([{ iso: 'read committed' }]);
    }
    expect((await sql.query<{ iso: string }>`SELECT current_setting('transaction_isolation') AS iso`)[0]!.iso).toBe('repeatable read');
    expect(names.renewals).toBe(0);
  });

  it('an error of the same class that is no stale plan (0A000 "cannot convert NaN") is not retried and renews nothing', async () => {
    const names = new StatementNames(true);
    const sql = oneConnection(names);
    let runs = 0;
    const failed = await sql
      .transaction(async (tx) => {
        runs++;
        await tx.query`SELECT ${'NaN'}::numeric::bigint AS n`;
      })
      .catch((err: { code?: string }) => err);
    expect(failed).toMatchObject({ code: '0A000' });
    expect(runs).toBe(1);
    await expect(sql.query`SELECT ${'NaN'}::numeric::bigint AS n`).rejects.toMatchObject({ code: '0A000' });
    expect(names.renewals).toBe(0);
  });

  it('after a renewal, a connection that holds the earlier names is dropped once it is used, not kept', async () => {
    const names = new StatementNames(true);
    const pool = new pg.Pool({ connectionString: db.url, max: 2 });
    pools.push(pool);
    const sql = new Sql(pool, names);
    await sql.query`CREATE TABLE prep_gen (id int PRIMARY KEY)`;
    await sql.query`INSERT INTO prep_gen VALUES (1)`;
    const readAll = () => sql.query`SELECT * FROM prep_gen`;
    // Both connections prepare generation 0 (two at once, so both are opened).
    await Promise.all([0, 1].map(() => sql.transaction(async (tx) => {
      await tx.query`SELECT pg_sleep(0.05)`;
      return tx.query`SELECT * FROM prep_gen`;
    })));
    for (let i = 0; i < 6; i++) await readAll();
    await migrate('ALTER TABLE prep_gen ADD COLUMN c int DEFAULT 3');
    expect(await readAll()).toEqual([{ id: 1, c: 3 }]);
    expect(names.renewals).toBe(1);
    // Use every connection the pool has, then ask each whether it still holds generation 0.
    const held = await Promise.all([0, 1].map(() => sql.transaction(async (tx) => {
      await tx.query`SELECT pg_sleep(0.05)`;
      return (await tx.query<{ n: number }>`SELECT count(*)::int AS n FROM pg_prepared_statements WHERE name LIKE 'cs0\\_%'`)[0]!.n;
    })));
    const again = await Promise.all([0, 1].map(() => sql.transaction(async (tx) => {
      await tx.query`SELECT pg_sleep(0.05)`;
      return (await tx.query<{ n: number }>`SELECT count(*)::int AS n FROM pg_prepared_statements WHERE name LIKE 'cs0\\_%'`)[0]!.n;
    })));
    // A connection may still hold them during the first use after the renewal; never after.
    expect(again).toEqual([0, 0]);
    expect(held.length).toBe(2);
  });

  it('a value node-postgres cannot send, on a statement prepared with BEGIN: the statement is closed again, and runs next time', async () => {
    const names = new StatementNames(true);
    const sql = oneConnection(names);
    const circular = selfReferencing();
    const read = (value: unknown) => sql.transaction(async (tx) => tx.query<{ j: unknown }>`SELECT ${value}::jsonb AS j`);
    await expect(read(circular)).rejects.toThrow(/circular/i);
    // Had the Parse stayed on the server unrecorded, this Parse would meet "already exists".
    expect(await read({ a: 1 })).toEqual([{ j: { a: 1 } }]);
    expect(names.renewals).toBe(0);
  });

  it('a value node-postgres cannot send, on a later statement of a transaction: nothing is sent, nothing is renewed', async () => {
    const names = new StatementNames(true);
    const sql = oneConnection(names);
    const circular = selfReferencing();
    let runs = 0;
    const twoStatements = (value: unknown) =>
      sql.transaction(async (tx) => {
        runs++;
        await tx.query`SELECT 1 AS one`;
        return tx.query<{ j: unknown }>`SELECT ${value}::jsonb AS j`;
      });
    // Not prepared yet, then prepared: neither leaves node-postgres believing in a closed statement.
    await expect(twoStatements(circular)).rejects.toThrow(/circular/i);
    expect(await twoStatements({ a: 0 })).toEqual([{ j: { a: 0 } }]);
    await expect(twoStatements(circular)).rejects.toThrow(/circular/i);
    expect(await twoStatements({ a: 1 })).toEqual([{ j: { a: 1 } }]);
    await expect(sql.query`SELECT ${circular}::jsonb AS j`).rejects.toThrow(/circular/i);
    expect(await sql.query`SELECT ${{ b: 2 }}::jsonb AS j`).toEqual([{ j: { b: 2 } }]);
    expect({ runs, renewals: names.renewals }).toEqual({ runs: 4, renewals: 0 });
  });

  it('requests in flight that all meet the stale statement renew the names once', async () => {
    const names = new StatementNames(true);
    const pool = new pg.Pool({ connectionString: db.url, max: 3 });
    pools.push(pool);
    const sql = new Sql(pool, names);
    await sql.query`CREATE TABLE prep_many (id int PRIMARY KEY)`;
    await sql.query`INSERT INTO prep_many VALUES (1)`;
    const onEach = () => Promise.all([0, 1, 2].map(() => sql.transaction(async (tx) => {
      await tx.query`SELECT pg_sleep(0.05)`;
      return tx.query`SELECT * FROM prep_many`;
    })));
    await onEach();
    await migrate('ALTER TABLE prep_many ADD COLUMN d int DEFAULT 4');
    expect(await onEach()).toEqual([[{ id: 1, d: 4 }], [{ id: 1, d: 4 }], [{ id: 1, d: 4 }]]);
    expect(names.renewals).toBe(1);
  });

  it('a query waiting for a connection while the names are renewed takes the new name, and no connection keeps two generations', async () => {
    const names = new StatementNames(true);
    const sql = oneConnection(names);
    await sql.query`CREATE TABLE prep_wait (id int PRIMARY KEY)`;
    await sql.query`INSERT INTO prep_wait VALUES (1)`;
    await sql.transaction(async (tx) => {
      await tx.query`SELECT 1 AS one`;
      await tx.query`SELECT * FROM prep_wait`;
    });
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let attempt = 0;
    const held = sql.transaction(async (tx) => {
      attempt++;
      await tx.query`SELECT 1 AS one`;
      if (attempt === 1) await gate;
      return tx.query`SELECT * FROM prep_wait`;
    });
    await new Promise((r) => setTimeout(r, 50));
    // Waits for the one connection, held by the transaction above.
    const waiter = sql.query`SELECT 7 AS seven`;
    await new Promise((r) => setTimeout(r, 20));
    await migrate('ALTER TABLE prep_wait ADD COLUMN c int DEFAULT 3');
    release();
    expect(await held).toEqual([{ id: 1, c: 3 }]);
    expect(await waiter).toEqual([{ seven: 7 }]);
    expect(names.renewals).toBe(1);
    const on = await sql.query<{ name: string }>`SELECT name FROM pg_prepared_statements`;
    expect([...new Set(on.map((r) => r.name.split('_')[0]))]).toEqual(['cs1']);
  });
});
