import { join, resolve } from 'node:path';
import { databaseUrl, ensureDatabase } from './databases.ts';
import { startPostgres } from './postgres.ts';
import type { RunningPostgres } from './postgres.ts';
import { startRedis } from './redis.ts';
import { LOCAL_SERVICE_LOGIN, servicePassword, urlAs } from './service-login.ts';

export interface LocalStackOptions {
  /** The repository root: data lives in <rootDir>/.countersign/{postgres,redis}. */
  rootDir: string;
  /** Overrides <rootDir>/.countersign as the folder holding postgres/ and redis/. */
  stateDir?: string;
  /** One line per notable event (cluster created, servers started/stopped). */
  log: (line: string) => void;
  /** Receives the servers' own log output; silent when omitted. */
  serverLog?: (line: string) => void;
}

export interface LocalStack {
  /** URL of the `countersign` database (created on first start) as the superuser: for migrations. */
  databaseUrl: string;
  /**
   * The same database as the service's login role (LOCAL_SERVICE_LOGIN), its password kept in
   * <stateDir>/postgres-service.password. The role exists once the migrations have run and
   * ensureServiceLogin (packages/db) has created it.
   */
  serviceDatabaseUrl: string;
  redisUrl: string;
  /** Stops Redis, then Postgres; safe to call more than once. */
  stop(): Promise<void>;
}

export const LOCAL_DATABASE_NAME = 'countersign';

/**
 * What `npm start` runs when DATABASE_URL / REDIS_URL are unset: an embedded Postgres and a
 * local redis-server, both on 127.0.0.1, both keeping their data in .countersign/ so that
 * decisions and queued jobs survive a restart.
 */
export async function startLocalStack(options: LocalStackOptions): Promise<LocalStack> {
  const stateDir = options.stateDir ? resolve(options.stateDir) : join(resolve(options.rootDir), '.countersign');
  // Servers' own output goes to serverLog (if any); devstack's notices always reach log.
  const forward = (line: string): void => {
    if (line.startsWith('devstack:')) options.log(line);
    else options.serverLog?.(line);
  };
  const postgres: RunningPostgres = await startPostgres({ dataDir: join(stateDir, 'postgres'), log: forward });
  try {
    if (await ensureDatabase(postgres.url, LOCAL_DATABASE_NAME)) {
      options.log(`devstack: created database "${LOCAL_DATABASE_NAME}"`);
    }
    const redis = await startRedis({
      dir: join(stateDir, 'redis'),
      persist: true,
      log: forward,
    });
    options.log(`devstack: Postgres on 127.0.0.1:${postgres.port}, Redis on 127.0.0.1:${redis.port}`);
    let stopping: Promise<void> | undefined;
    const ownerUrl = databaseUrl(postgres.url, LOCAL_DATABASE_NAME);
    return {
      databaseUrl: ownerUrl,
      serviceDatabaseUrl: urlAs(ownerUrl, LOCAL_SERVICE_LOGIN, servicePassword(join(stateDir, 'postgres-service.password'))),
      redisUrl: redis.url,
      stop: () => {
        stopping ??= (async () => {
          // Both are attempted even if one fails; the first failure is reported.
          const results = await Promise.allSettled([redis.stop(), postgres.stop()]);
          const failed = results.find((result) => result.status === 'rejected');
          if (failed) throw failed.reason;
        })();
        return stopping;
      },
    };
  } catch (error) {
    await postgres.stop();
    throw error;
  }
}
