import { createRequire } from 'node:module';
import pg from 'pg';

// One statement with BEGIN before it and/or COMMIT after it, sent as one batch of extended-
// protocol messages with a single Sync: one round trip where BEGIN, the statement and COMMIT
// cost three. Postgres runs the messages in order and, once one fails, skips the rest up to
// the Sync: a failed statement never reaches its COMMIT, and a BEGIN that failed never runs
// the statement outside a transaction. The statement keeps its parameters ($1…).
//
// Built on node-postgres' own Query (row parsing, types, errors); only what goes on the wire
// differs. `name`: run as that prepared statement (prepared-statements.ts). Used where every round trip counts: a gate transaction's first statement and its
// final write (the chain-head lock is held from the second statement to COMMIT).

const { prepareValue } = createRequire(import.meta.url)('pg/lib/utils') as { prepareValue: (v: unknown) => unknown };

interface Connection {
  on(event: 'parseComplete', listener: () => void): void;
  off(event: 'parseComplete', listener: () => void): void;
  /** Named statements this connection has prepared, by name (node-postgres' own record). */
  parsedStatements: Record<string, string>;
  stream: { cork?: () => void; uncork?: () => void };
  parse(c: { text: string; name?: string; types?: unknown[] }): void;
  bind(c: { portal?: string; statement?: string; values?: unknown[]; valueMapper?: (v: unknown) => unknown }): void;
  describe(c: { type: 'P' | 'S'; name: string }): void;
  execute(c: { portal?: string; rows?: number }): void;
  close(c: { type: 'P' | 'S'; name: string }): void;
  sync(): void;
}

interface PgQuery {
  handleError(err: Error, connection: Connection): void;
}

type QueryCtor = new (config: { text: string; values: unknown[]; callback: (err: Error | null, res: unknown) => void }) => PgQuery;

class PipelinedQuery extends (pg.Query as unknown as QueryCtor) {
  constructor(
    private readonly around: { begin?: string; commit?: boolean },
    private readonly statement: { text: string; values: unknown[]; name?: string | undefined },
    callback: (err: Error | null, res: unknown) => void,
  ) {
    super({ text: statement.text, values: statement.values, callback });
  }

  /** Stops listening for this query's ParseComplete (recordWhenParsed), once it has ended. */
  detach: (() => void) | undefined;

  submit(connection: Connection): null {
    const { name, text } = this.statement;
    // A named statement this connection has not prepared yet is Parsed, after BEGIN (an
    // isolation level must be set before anything takes a snapshot, and analysing a statement
    // takes one).
    const prepare = name !== undefined && connection.parsedStatements[name] !== text;
    if (prepare) this.recordWhenParsed(connection, name, text, this.around.begin ? 2 : 1);
    connection.stream.cork?.();
    try {
      if (this.around.begin) {
        connection.parse({ text: this.around.begin });
        connection.bind({});
        connection.execute({});
      }
      if (name === undefined) connection.parse({ text });
      else if (prepare) connection.parse({ text, name });
      try {
        connection.bind({ statement: name ?? '', values: this.statement.values, valueMapper: prepareValue });
      } catch (err) {
        // A value node-postgres cannot send: nothing of the statement runs (a BEGIN sent above
        // is ended by the caller's ROLLBACK). A statement Parsed above is closed again: this
        // query ends before its ParseComplete, so nothing would record it as prepared.
        if (prepare) connection.close({ type: 'S', name: name! });
        connection.sync();
        this.handleError(err as Error, connection);
        return null;
      }
      connection.describe({ type: 'P', name: '' });
      connection.execute({});
      if (this.around.commit) {
        connection.parse({ text: 'COMMIT' });
        connection.bind({});
        connection.execute({});
      }
      connection.sync();
    } finally {
      connection.stream.uncork?.();
    }
    return null;
  }

  /**
   * node-postgres records a named statement as prepared at a ParseComplete while it is the
   * active query's name. This query has none (BEGIN's and COMMIT's Parse answer ParseComplete
   * too), so it records its own statement at the `nth` ParseComplete, which answers that Parse
   * and only that one. A Parse that fails answers none, and is never taken for prepared.
   */
  private recordWhenParsed(connection: Connection, name: string, text: string, nth: number): void {
    let seen = 0;
    const onParsed = () => {
      if (++seen === nth) connection.parsedStatements[name] = text;
    };
    connection.on('parseComplete', onParsed);
    this.detach = () => connection.off('parseComplete', onParsed);
  }
}

/**
 * Runs `statement` on `client` with `begin` (a BEGIN statement of our own) before it and/or
 * COMMIT after it, in one round trip. The results of each, in order (BEGIN's, the statement's,
 * COMMIT's). A COMMIT that Postgres answered with ROLLBACK is the caller's to check.
 */
export function runPipelined(
  client: pg.PoolClient,
  around: { begin?: string; commit?: boolean },
  statement: { text: string; values: unknown[]; name?: string | undefined },
): Promise<pg.QueryResult[]> {
  return new Promise((resolve, reject) => {
    const query = new PipelinedQuery(around, statement, (err, res) => {
      query.detach?.();
      if (err) return reject(err);
      resolve(Array.isArray(res) ? (res as pg.QueryResult[]) : [res as pg.QueryResult]);
    });
    client.query(query as unknown as pg.QueryConfig);
  });
}
