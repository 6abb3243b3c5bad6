import { randomUUID } from 'node:crypto';
import { PrismaPg } from '@prisma/adapter-pg';
import { ColumnTypeEnum } from '@prisma/driver-adapter-utils';
import type {
  SqlDriverAdapter,
  SqlMigrationAwareDriverAdapterFactory,
  SqlQueryable,
} from '@prisma/driver-adapter-utils';
import pg from 'pg';

// The schema engine talks to Postgres through Prisma's pg driver adapter. Two gaps in
// @prisma/adapter-pg 7.10 make it unfit for migrations as shipped, and are closed here:
//
// 1. executeScript() splits a script on every ";" and runs the pieces one by one. That breaks
//    any function body (our append-only trigger is PL/pgSQL) and loses atomicity. We send the
//    whole script as ONE simple-protocol query instead: Postgres runs a multi-statement query
//    as a single implicit transaction, as the native engine does.
// 2. Catalog columns of Postgres' internal "char" type (OID 18, e.g. pg_constraint.contype)
//    are rejected as an unsupported type, so introspection (the diff) fails; and the engine
//    reads them as the Character column type, not as text. The pg client below hides OID 18
//    from the adapter (reporting text) and tags which columns they were; the adapter's
//    queryRaw is then wrapped to report those columns as Character.

const CHAR_OID = 18;
const TEXT_OID = 25;
const CHAR_COLUMNS = Symbol('charColumns');

type QueryResultLike = { fields?: Array<{ dataTypeID: number }>; rows?: unknown[] };
type TaggedRows = unknown[] & { [CHAR_COLUMNS]?: number[] };

function relabelCharColumns<T>(result: T): T {
  const results = (Array.isArray(result) ? result : [result]) as QueryResultLike[];
  for (const one of results) {
    const charColumns: number[] = [];
    (one?.fields ?? []).forEach((field, index) => {
      if (field.dataTypeID !== CHAR_OID) return;
      field.dataTypeID = TEXT_OID;
      charColumns.push(index);
    });
    // The rows array is passed through to queryRaw's result untouched: it carries the tag.
    if (charColumns.length > 0 && one.rows) (one.rows as TaggedRows)[CHAR_COLUMNS] = charColumns;
  }
  return result;
}

function reportCharColumns(queryable: SqlQueryable): void {
  const queryRaw = queryable.queryRaw.bind(queryable);
  queryable.queryRaw = async (query) => {
    const resultSet = await queryRaw(query);
    for (const index of (resultSet.rows as TaggedRows)[CHAR_COLUMNS] ?? []) {
      resultSet.columnTypes[index] = ColumnTypeEnum.Character;
    }
    return resultSet;
  };
}

/** A pg client whose results never carry the "char" type (see 2. above). */
class CatalogClient extends pg.Client {
  // pg's query() has callback, promise and submittable forms; the adapter uses the first two.
  override query(...args: unknown[]): never {
    const last = args[args.length - 1];
    if (typeof last === 'function') {
      const callback = last as (error: Error | null, result: unknown) => void;
      args[args.length - 1] = (error: Error | null, result: unknown) =>
        callback(error, error ? result : relabelCharColumns(result));
      return (super.query as (...a: unknown[]) => never)(...args);
    }
    const returned = (super.query as (...a: unknown[]) => unknown)(...args);
    if (returned instanceof Promise) return returned.then(relabelCharColumns) as never;
    return returned as never;
  }
}

function openPool(connectionString: string, max: number): pg.Pool {
  const pool = new pg.Pool({ connectionString, max, Client: CatalogClient });
  // An idle client's error (server restart) must not crash the process; the next query fails.
  pool.on('error', () => {});
  return pool;
}

/** Closes both gaps (see above) on one adapter. */
function fixAdapter(adapter: SqlDriverAdapter, pool: pg.Pool): SqlDriverAdapter {
  reportCharColumns(adapter);
  const startTransaction = adapter.startTransaction.bind(adapter);
  adapter.startTransaction = async (isolationLevel) => {
    const transaction = await startTransaction(isolationLevel);
    reportCharColumns(transaction);
    return transaction;
  };
  const toDriverError = (adapter as unknown as { onError?: (error: unknown) => never }).onError;
  adapter.executeScript = async (script: string): Promise<void> => {
    try {
      await pool.query(script);
    } catch (error) {
      // The adapter's own mapping turns pg errors into the DriverAdapterError the engine reads.
      if (typeof toDriverError === 'function') toDriverError.call(adapter, error);
      throw error;
    }
  };
  return adapter;
}

/** The key Prisma's engine (native and wasm) locks before migrating a database. */
export const PRISMA_MIGRATE_LOCK_KEY = 72707369;

export interface MigrationDriver {
  factory: SqlMigrationAwareDriverAdapterFactory;
  /**
   * Takes Prisma's migration lock on the engine's one session before the engine does
   * (advisory locks stack within a session), so checks made before applying cannot race a
   * concurrent migrator. Held until close().
   */
  lock(): Promise<void>;
  /** Ends the pools (and with them the engine's session-level advisory lock). */
  close(): Promise<void>;
}

/** Prisma's migrations table, as `prisma migrate` creates it. */
const PRISMA_MIGRATIONS_TABLE = `CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
  "id" VARCHAR(36) PRIMARY KEY NOT NULL,
  "checksum" VARCHAR(64) NOT NULL,
  "finished_at" TIMESTAMPTZ,
  "migration_name" VARCHAR(255) NOT NULL,
  "logs" TEXT,
  "rolled_back_at" TIMESTAMPTZ,
  "started_at" TIMESTAMPTZ NOT NULL DEFAULT now(),
  "applied_steps_count" INTEGER NOT NULL DEFAULT 0
)`;

/**
 * A driver-adapter factory for the schema engine on `databaseUrl`.
 *
 * The main connection pool holds ONE connection: the engine takes Prisma's session-level
 * advisory lock (pg_advisory_lock(72707369)) before applying migrations and never releases it
 * explicitly. With a single session the lock is always held by the connection doing the work,
 * and closing the driver releases it, so two processes migrating at once run one after the
 * other, exactly like `prisma migrate deploy`.
 *
 * Shadow databases (needed to replay the migrations folder for a diff) are created on the same
 * server under a random name and dropped when the engine disposes of them.
 */
export function openMigrationDriver(databaseUrl: string): MigrationDriver {
  const pool = openPool(databaseUrl, 1);
  const shadowPools = new Set<pg.Pool>();
  const inner = new PrismaPg(pool);

  const factory: SqlMigrationAwareDriverAdapterFactory = {
    provider: inner.provider,
    adapterName: inner.adapterName,
    connect: async () => fixAdapter(await inner.connect(), pool),
    connectToShadowDb: async () => {
      const name = `prisma_shadow_${randomUUID().replaceAll('-', '')}`;
      await pool.query(`CREATE DATABASE "${name}"`);
      const shadowUrl = new URL(databaseUrl);
      shadowUrl.pathname = `/${name}`;
      const shadowPool = openPool(shadowUrl.toString(), 1);
      shadowPools.add(shadowPool);
      // Replayed migrations may name Prisma's own table (20261205041500 grants reading it),
      // which a real database always has by then; the engine replays without recording, so the
      // shadow database gets it, empty, up front. Diffs never compare this table.
      await shadowPool.query(PRISMA_MIGRATIONS_TABLE);
      const adapter = fixAdapter(await new PrismaPg(shadowPool).connect(), shadowPool);
      const dispose = adapter.dispose.bind(adapter);
      adapter.dispose = async () => {
        await dispose();
        shadowPools.delete(shadowPool);
        await shadowPool.end();
        await pool.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      };
      return adapter;
    },
  };

  let closing: Promise<void> | undefined;
  return {
    factory,
    lock: async () => {
      await pool.query('SELECT pg_advisory_lock($1)', [PRISMA_MIGRATE_LOCK_KEY]);
    },
    close: () => {
      closing ??= (async () => {
        await Promise.all([...shadowPools].map((shadow) => shadow.end()));
        await pool.end();
      })();
      return closing;
    },
  };
}
