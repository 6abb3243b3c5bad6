import { PrismaPg } from '@prisma/adapter-pg';
import pg from 'pg';
import { PrismaClient } from './generated/prisma/client.ts';
import { StatementNames } from './prepared-statements.ts';
import { Sql } from './sql.ts';

export interface PrismaClientOptions {
  /** Connection pool size (pg's default is 10). */
  max?: number;
  /**
   * Run our own statements as named prepared statements (prepared-statements.ts). Default true;
   * false behind a transaction-pooling proxy that does not keep them per client.
   */
  preparedStatements?: boolean;
}

/** The plain-SQL side of each client, on the very same pool (see sql.ts). */
const sqlByClient = new WeakMap<PrismaClient, Sql>();

/**
 * A Prisma client on `databaseUrl`. Prisma 7 compiles queries in WebAssembly and sends them
 * through the pg driver adapter: no native engine. Its pool is shared with `sqlOf(client)`.
 * The caller owns the client and must `$disconnect()` it, which also ends the pool.
 */
export function createPrismaClient(databaseUrl: string, options: PrismaClientOptions = {}): PrismaClient {
  const pool = new pg.Pool({
    connectionString: databaseUrl,
    ...(options.max === undefined ? {} : { max: options.max }),
    // What Prisma's transactions had as maxWait: no connection within 5 s is an outage.
    connectionTimeoutMillis: 5_000,
    // A transaction left open (a stuck caller) is ended by Postgres, releasing its row locks.
    idle_in_transaction_session_timeout: 15_000,
    // A peer that vanished without closing (a network partition) is noticed, not waited on forever.
    keepAlive: true,
  });
  // An idle connection that breaks (Postgres restarting) must not crash the process: the
  // next query gets a fresh connection, or fails and is answered as unavailable.
  pool.on('error', () => undefined);
  const client = new PrismaClient({ adapter: new PrismaPg(pool, { disposeExternalPool: false }) });
  const disconnect = client.$disconnect.bind(client);
  let ended: Promise<void> | undefined;
  Object.defineProperty(client, '$disconnect', {
    value: () => (ended ??= disconnect().finally(() => pool.end())),
  });
  sqlByClient.set(client, new Sql(pool, new StatementNames(options.preparedStatements ?? true)));
  return client;
}

/** Plain SQL on `client`'s pool. */
export function sqlOf(client: PrismaClient): Sql {
  const sql = sqlByClient.get(client);
  if (!sql) throw new Error('not a client made by createPrismaClient');
  return sql;
}

export type { PrismaClient };
