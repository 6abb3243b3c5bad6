import { createRequire } from 'node:module';
import type pg from 'pg';
import { runPipelined } from './pipelined-query.ts';
import { staleStatement, StatementNames, UNNAMED } from './prepared-statements.ts';

const { prepareValue } = createRequire(import.meta.url)('pg/lib/utils') as { prepareValue: (v: unknown) => unknown };

// Plain SQL on the service's pg pool, for the paths every decision takes. Prisma stays for the
// rest (search, sessions, exports), on the same pool: through Prisma's query interpreter a
// findUnique of one action costs ~700 µs of this process's CPU, the same SELECT sent here
// ~70 µs (measured on the 2-core bench machine), and an escalation runs dozens of them.
//
// Queries are tagged templates, so a value can only ever be a parameter ($1…), never SQL text:
//   await sql.query<Row>`SELECT * FROM "Action" WHERE id = ${id}`

/** What a transaction, or the pool itself, can run. */
export interface SqlRunner {
  /** The rows the statement returns. */
  query<R>(strings: TemplateStringsArray, ...values: unknown[]): Promise<R[]>;
  /** How many rows the statement changed. */
  execute(strings: TemplateStringsArray, ...values: unknown[]): Promise<number>;
  /** A statement composed by our own code, already numbered $1…$n (pending-writes.ts). */
  queryText<R>(text: string, values: unknown[]): Promise<R[]>;
  /**
   * In a transaction only: `queryText`, then COMMIT in the same round trip; the transaction is
   * over once it resolves. Rejects, with nothing committed, when the statement fails or
   * Postgres answers the COMMIT with ROLLBACK.
   */
  queryTextAndCommit?<R>(text: string, values: unknown[]): Promise<R[]>;
}

/** See Sql.scriptTransaction. */
export interface ScriptRunner {
  /** Every statement's result, in order. A script ending in COMMIT that Postgres rolled back throws. */
  run(script: string): Promise<pg.QueryResult[]>;
}

/** A number for a script (Sql.scriptTransaction): a safe integer in [min, max], or it throws. */
export function sqlInt(value: number, min = 0, max = Number.MAX_SAFE_INTEGER): string {
  if (!Number.isSafeInteger(value) || value < min || value > max) throw new RangeError(`not an integer in [${min}, ${max}]: ${String(value)}`);
  return String(value);
}

/** Row ids (bigint, as decimal strings) for a script: digits only, or it throws. */
export function sqlBigintArray(ids: readonly string[]): string {
  for (const id of ids) if (!/^[0-9]{1,19}$/.test(id)) throw new RangeError(`not a bigint id: ${JSON.stringify(id)}`);
  return `'{${ids.join(',')}}'::bigint[]`;
}

export interface TransactionOptions {
  /**
   * Ask for READ COMMITTED explicitly. Postgres' default is READ COMMITTED; a database
   * configured otherwise needs it asked, which costs nothing here (it is part of BEGIN).
   */
  readCommitted?: boolean;
  /**
   * `fn` changes state outside the database (sealSigningKey retires keys in the process's
   * keyring), so it must not run twice: a stale prepared statement fails the transaction
   * instead of running it again (the names are still renewed for the next one).
   */
  once?: boolean;
}

/**
 * `values` as node-postgres will send them, or a throw before anything is sent. node-postgres
 * serialises them only after it has sent a named statement's Parse, and a value it cannot
 * serialise (a circular object) then leaves it believing in a statement it closed again.
 * Serialising twice is harmless: its output (strings, Buffers, null) passes through unchanged.
 */
function sendableValues(values: unknown[]): unknown[] {
  return values.map((v) => prepareValue(v));
}

/** A tagged template as pg's text with $1…$n and its values, to run later. */
export function sqlStatement(strings: TemplateStringsArray, ...values: unknown[]): { text: string; values: unknown[] } {
  return statement(strings, values);
}

/** Postgres answered a COMMIT with ROLLBACK: an earlier statement had failed (and was swallowed). */
const ROLLED_BACK = 'the transaction was rolled back by Postgres (an earlier statement failed)';

/**
 * SQL text our own code composes statements from (a column list two statements share), placed
 * in a tagged template as text, not as a parameter. Only ever made from constants in source.
 */
export class SqlFragment {
  constructor(readonly text: string) {}
}

/** `strings` + `values` → pg's text with $1…$n (a SqlFragment goes in as its text). */
function statement(strings: TemplateStringsArray, values: readonly unknown[]): { text: string; values: unknown[] } {
  let text = strings[0]!;
  if (!values.some((v) => v instanceof SqlFragment)) {
    for (let i = 1; i < strings.length; i++) text += `$${i}${strings[i]}`;
    return { text, values: values as unknown[] };
  }
  const params: unknown[] = [];
  for (let i = 1; i < strings.length; i++) {
    const value = values[i - 1];
    if (value instanceof SqlFragment) text += value.text;
    else text += `$${params.push(value)}`;
    text += strings[i];
  }
  return { text, values: params };
}

/** Statements on the pool, each on whichever connection is free (no transaction). */
class Runner implements SqlRunner {
  constructor(
    private readonly target: pg.Pool,
    protected readonly names: StatementNames,
  ) {}

  private async run(text: string, values: unknown[]): Promise<pg.QueryResult> {
    const sendable = sendableValues(values);
    const generation = this.names.current;
    try {
      return await this.once(text, sendable);
    } catch (err) {
      // Stale after a migration: it did not run; once more under a new name.
      if (!staleStatement(err) || !this.names.enabled) throw err;
      this.names.renew(generation);
      return this.once(text, sendable);
    }
  }

  /** What pool.query does, with the connection in hand: one that failed, or holds outdated names, is dropped. */
  private async once(text: string, values: unknown[]): Promise<pg.QueryResult> {
    const client = await this.target.connect();
    let failed: Error | undefined;
    // Checked out, a client has no pool listener: a connection that breaks now must not be an
    // unhandled 'error' event (the query in flight fails on its own).
    const onError = (err: Error) => {
      failed ??= err;
    };
    client.on('error', onError);
    try {
      // Named once the connection is in hand: a renewal while waiting for it gives the new name.
      const generation = this.names.current;
      const name = this.names.of(text);
      if (name !== undefined) this.names.using(client, generation);
      return await client.query({ text, values, name });
    } catch (err) {
      failed ??= err as Error;
      throw err;
    } finally {
      client.off('error', onError);
      client.release(failed ?? this.names.outdated(client));
    }
  }

  async query<R>(strings: TemplateStringsArray, ...values: unknown[]): Promise<R[]> {
    const { text, values: params } = statement(strings, values);
    return (await this.run(text, params)).rows as R[];
  }

  async queryText<R>(text: string, values: unknown[]): Promise<R[]> {
    return (await this.run(text, values)).rows as R[];
  }

  async execute(strings: TemplateStringsArray, ...values: unknown[]): Promise<number> {
    const { text, values: params } = statement(strings, values);
    return (await this.run(text, params)).rowCount ?? 0;
  }
}

/**
 * A transaction's statements. BEGIN rides with the first (pipelined-query.ts: one round trip
 * where two were), and the last write may carry COMMIT along (queryTextAndCommit).
 */
class TxRunner implements SqlRunner {
  begun = false;
  committed = false;

  constructor(
    private readonly client: pg.PoolClient,
    private readonly begin: string,
    private readonly names: StatementNames,
  ) {}

  /** This statement's name, noting that the connection runs it (StatementNames.using). */
  private nameOf(text: string): string | undefined {
    const generation = this.names.current;
    const name = this.names.of(text);
    if (name !== undefined) this.names.using(this.client, generation);
    return name;
  }

  private async run(text: string, values: unknown[]): Promise<pg.QueryResult> {
    if (this.committed) throw new Error('a statement after this transaction committed');
    if (this.begun) return this.client.query({ text, values: sendableValues(values), name: this.nameOf(text) });
    this.begun = true;
    const results = await runPipelined(this.client, { begin: this.begin }, { text, values, name: this.nameOf(text) });
    return results.at(-1)!;
  }

  async query<R>(strings: TemplateStringsArray, ...values: unknown[]): Promise<R[]> {
    const { text, values: params } = statement(strings, values);
    return (await this.run(text, params)).rows as R[];
  }

  async queryText<R>(text: string, values: unknown[]): Promise<R[]> {
    return (await this.run(text, values)).rows as R[];
  }

  async execute(strings: TemplateStringsArray, ...values: unknown[]): Promise<number> {
    const { text, values: params } = statement(strings, values);
    return (await this.run(text, params)).rowCount ?? 0;
  }

  async queryTextAndCommit<R>(text: string, values: unknown[]): Promise<R[]> {
    if (this.committed) throw new Error('a statement after this transaction committed');
    const begin = this.begun ? undefined : this.begin;
    this.begun = true;
    const results = await runPipelined(this.client, { ...(begin ? { begin } : {}), commit: true }, { text, values, name: this.nameOf(text) });
    // COMMIT of a transaction an error had already aborted answers ROLLBACK, not an error.
    if (results.at(-1)?.command !== 'COMMIT') throw new Error(ROLLED_BACK);
    this.committed = true;
    return results.at(-2)!.rows as R[];
  }
}

export class Sql extends Runner {
  /**
   * `names`: the prepared statements' names (prepared-statements.ts); without it every
   * statement runs unnamed, parsed and planned at each execution.
   */
  constructor(
    private readonly pool: pg.Pool,
    names: StatementNames = UNNAMED,
  ) {
    super(pool, names);
  }

  /**
   * Runs `fn` in one transaction on one connection: COMMIT when it resolves, ROLLBACK when it
   * throws (and the error is passed on). A connection whose ROLLBACK failed is discarded, never
   * handed to the next caller mid-transaction. A transaction that failed on a stale prepared
   * statement (a migration changed a table under it) rolled back whole; it is run once more,
   * `fn` and all, under new statement names.
   */
  async transaction<T>(fn: (tx: SqlRunner) => Promise<T>, options: TransactionOptions = {}): Promise<T> {
    const generation = this.names.current;
    try {
      return await this.transactionOnce(fn, options);
    } catch (err) {
      if (!staleStatement(err) || !this.names.enabled) throw err;
      this.names.renew(generation);
      if (options.once) throw err;
      return this.transactionOnce(fn, options);
    }
  }

  private async transactionOnce<T>(fn: (tx: SqlRunner) => Promise<T>, options: TransactionOptions): Promise<T> {
    return this.onConnection(async (client, rollback) => {
      const tx = new TxRunner(client, options.readCommitted ? 'BEGIN ISOLATION LEVEL READ COMMITTED' : 'BEGIN', this.names);
      try {
        const result = await fn(tx);
        if (tx.begun && !tx.committed) {
          const committed = await client.query('COMMIT');
          // COMMIT of a transaction an error had already aborted answers ROLLBACK, not an error.
          if (committed.command === 'ROLLBACK') throw new Error(ROLLED_BACK);
          tx.committed = true;
        }
        return result;
      } catch (err) {
        if (tx.begun && !tx.committed) await rollback();
        throw err;
      }
    });
  }

  /**
   * A transaction whose statements carry their own BEGIN and COMMIT: `run` sends a script of
   * several statements as one simple-protocol round trip, so `BEGIN; SELECT …` and
   * `UPDATE …; COMMIT` cost two round trips where BEGIN, SELECT, UPDATE and COMMIT cost four.
   * The simple protocol has no parameters: scripts are built by our own code from constants
   * and numbers the caller has checked (`sqlInt`), never from text a caller sent. Whatever goes
   * wrong, or a script that leaves the transaction open, ends in ROLLBACK.
   */
  async scriptTransaction<T>(fn: (tx: ScriptRunner) => Promise<T>): Promise<T> {
    return this.onConnection(async (client, rollback) => {
      let open = false;
      const run = async (script: string): Promise<pg.QueryResult[]> => {
        open = true;
        const answer = (await client.query(script)) as pg.QueryResult | pg.QueryResult[];
        const results = Array.isArray(answer) ? answer : [answer];
        // A script that ends the transaction ends with COMMIT (`;` or not); Postgres answers a
        // COMMIT of a transaction an error had already aborted with ROLLBACK, not an error.
        if (/(^|;)\s*COMMIT\s*;?\s*$/i.test(script)) {
          if (results.at(-1)?.command !== 'COMMIT') throw new Error(ROLLED_BACK);
          open = false;
        }
        return results;
      };
      try {
        const result = await fn({ run });
        if (open) throw new Error('a script transaction ended without COMMIT');
        return result;
      } catch (err) {
        await rollback();
        throw err;
      }
    });
  }

  /**
   * One pooled connection for `fn`, with a ROLLBACK that never throws. While checked out, a
   * client has no pool listener: a connection Postgres ends under us (restart, failover,
   * idle_in_transaction_session_timeout) would otherwise be an unhandled 'error' event and take
   * the process down (the query in flight fails on its own). A connection that broke, or whose
   * ROLLBACK failed, is discarded, never handed to the next caller mid-transaction.
   */
  private async onConnection<T>(fn: (client: pg.PoolClient, rollback: () => Promise<void>) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    let broken: Error | undefined;
    const onError = (err: Error) => {
      broken ??= err;
    };
    client.on('error', onError);
    const rollback = async () => {
      try {
        await client.query('ROLLBACK');
      } catch (rollbackFailed) {
        broken ??= rollbackFailed as Error;
      }
    };
    try {
      return await fn(client, rollback);
    } catch (err) {
      // Its prepared statements are stale: a fresh connection prepares the renamed ones without
      // carrying the old ones along.
      if (staleStatement(err)) broken ??= err as Error;
      throw err;
    } finally {
      client.off('error', onError);
      client.release(broken ?? this.names.outdated(client));
    }
  }
}
