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

/** SQLSTATEs that say a connection's prepared statements no longer fit the database. */
const STALE_STATEMENT_CODES = new Set([
  // "cached plan must not change result type": a migration added a column under a SELECT *.
  '0A000',
  // "prepared statement … does not exist": someone ran DISCARD ALL / DEALLOCATE on it.
  '26000',
]);

/**
 * True when `err` means a prepared statement no longer fits the database. It failed before it
 * ran (Postgres checks a statement's plan before executing it), so it can be run again, under a
 * new name (StatementNames.renew).
 */
export function staleStatement(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && STALE_STATEMENT_CODES.has(code);
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
   * gets a new name, which every connection of the pool prepares afresh on its next use. The old
   * statements stay on their connections until those close (a migration is rare).
   */
  renew(): void {
    this.renewals++;
    this.generation++;
    this.names.clear();
  }

  get size(): number {
    return this.names.size;
  }
}

/** Every statement unnamed: what a client made without the option runs. */
export const UNNAMED = new StatementNames(false);
