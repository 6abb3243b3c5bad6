import { createHash } from 'node:crypto';

// Our statements' text is fixed per call site (values are always parameters, see sql.ts), so
// each one can be a named prepared statement: Postgres parses, analyses and (once it settles
// on a generic plan) plans it once per connection instead of at every execution. Measured on
// the 2-core bench machine: Postgres' CPU per escalation 14–23 % lower (escalation-stages.ts,
// interleaved runs).
//
// Off (COUNTERSIGN_DB_PREPARED_STATEMENTS=false) behind a transaction-pooling proxy that does
// not keep prepared statements per client (PgBouncer before 1.21, or without
// max_prepared_statements): a statement prepared on one server connection would be executed on
// another.

/**
 * The errors that say a connection's prepared statement no longer fits, each by its SQLSTATE and
 * the Postgres routine that raises it (the code alone is a whole class: 0A000 is every "not
 * supported"). Each is raised before the statement runs.
 */
const STALE_STATEMENT: ReadonlyArray<{ code: string; routine: string }> = [
  // "cached plan must not change result type": a migration changed a table under a SELECT *.
  { code: '0A000', routine: 'RevalidateCachedQuery' },
  // "prepared statement … does not exist": DISCARD ALL or DEALLOCATE ran on the connection.
  { code: '26000', routine: 'FetchPreparedStatement' },
  // "prepared statement … already exists": prepared without this process knowing.
  { code: '42P05', routine: 'StorePreparedStatement' },
];

/**
 * True when `err` says a prepared statement no longer fits the connection. It did not run, so
 * it can be run again, under a new name (StatementNames.renew).
 */
export function staleStatement(err: unknown): boolean {
  const e = err as { code?: unknown; routine?: unknown } | null;
  return STALE_STATEMENT.some((s) => s.code === e?.code && s.routine === e?.routine);
}

/**
 * The name each statement text is prepared under, on every connection of one pool. Bounded:
 * past `max` distinct texts (ours come nowhere near: a whole test run used at most 35 in one
 * process, 86 in all) the rest run unnamed, so a caller composing text cannot grow every
 * backend's memory without end.
 */
export class StatementNames {
  private readonly names = new Map<string, string>();
  /** Part of every name; renew() moves it on, so every connection prepares afresh. */
  private generation = 0;
  /** How many times a stale statement renewed the names (a test and an operator may ask). */
  renewals = 0;

  constructor(
    readonly enabled: boolean,
    private readonly max = 256,
  ) {}

  /** The name for `text`, or undefined: run it unnamed. */
  of(text: string): string | undefined {
    if (!this.enabled) return undefined;
    let name = this.names.get(text);
    if (name === undefined) {
      if (this.names.size >= this.max) return undefined;
      // The text's hash: the same name in every process, a different one for any other text.
      name = `cs${this.generation}_${createHash('sha256').update(text).digest('base64url').slice(0, 32)}`;
      this.names.set(text, name);
    }
    return name;
  }

  /**
   * A statement came back stale (a migration changed a table under it): from now on every text
   * gets a new name, which every connection of the pool prepares afresh on its next use. A
   * connection that prepared names of an earlier generation is dropped after its next use
   * (`outdated`), so no connection holds more than one generation's statements for long.
   */
  renew(from: number): void {
    // Every request in flight meets the same stale statements: the first renews, the rest find
    // the names already moved on.
    if (from !== this.generation) return;
    this.renewals++;
    this.generation++;
    this.names.clear();
  }

  /** The generation names are given in now (pass it to renew). */
  get current(): number {
    return this.generation;
  }

  /**
   * Notes that `connection` runs names of `generation` (sql.ts, at each named statement; the
   * generation the name was taken in, which a renewal meanwhile may have left behind).
   */
  using(connection: object, generation: number): void {
    const known = this.generationOf.get(connection);
    if (known === undefined || generation < known) this.generationOf.set(connection, generation);
  }

  /** An error to release `connection` with (which drops it) when it holds earlier names. */
  outdated(connection: object): Error | undefined {
    const generation = this.generationOf.get(connection);
    return generation !== undefined && generation < this.generation ? new Error('prepared statements of an earlier generation') : undefined;
  }

  /** The generation of the names each connection first ran. */
  private readonly generationOf = new WeakMap<object, number>();

  get size(): number {
    return this.names.size;
  }
}

/** Every statement unnamed: what a client made without the option runs. */
export const UNNAMED = new StatementNames(false);
