// First: tracing (when OTEL_* asks for it) must be in place before anything else loads.
import './telemetry/register.ts';
import { checkVariableNames } from '@countersign/config';
import { databaseUnavailableReason, sqlStateOf } from '@countersign/db';
import { ed25519Backend } from '@countersign/evidence';
import { applyMigrations, ensureServiceLogin, pendingMigrations } from '@countersign/db/migrate';
import { createLogger } from './logger.ts';
import { applyRoleFlag } from './role-flag.ts';
import { startService } from './service.ts';
import { firstLine, portInUse, StartupError } from './startup/startup-error.ts';
import { requireWebhookMaster } from './startup/webhook-master.ts';
import { parseSettings, SettingsError } from './settings.ts';

// Production entry point: every dependency comes from the environment (DATABASE_URL,
// REDIS_URL, signing key, config paths). `npm start` uses dev.ts instead, which starts
// embedded Postgres and Redis first.
async function main(): Promise<void> {
  const env = applyRoleFlag(process.argv.slice(2), process.env);
  const settings = parseSettings(env);
  const unknown = checkVariableNames(env);
  requireWebhookMaster(env, process.cwd());
  const logger = createLogger(settings.LOG_LEVEL);
  for (const { name, suggestion } of unknown) logger.warn({ variable: name, ...(suggestion ? { didYouMean: suggestion } : {}) }, 'COUNTERSIGN_ variable nothing reads; ignored');
  if (process.env.COUNTERSIGN_SKIP_MIGRATIONS !== '1') await migrate(env, settings.DATABASE_URL);
  else await schemaIsCurrent(settings.DATABASE_URL);
  const service = await startService({ settings, logger, rootDir: process.cwd(), env, createSigningKey: Boolean(env.COUNTERSIGN_KEYS_DIR) });
  // Which Ed25519 implementation signs (COUNTERSIGN_ED25519): an operator under a FIPS policy checks it here.
  logger.info({ url: service.url, role: settings.COUNTERSIGN_ROLE, ed25519: ed25519Backend() }, 'countersign listening');
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'stopping');
    service.stop().then(
      () => process.exit(0),
      (err: Error) => {
        logger.error({ err: err.message }, 'error while stopping');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
}

/**
 * Migrations run as the schema owner: MIGRATION_DATABASE_URL when set (then the service's own
 * login, DATABASE_URL, is made sure of too), else DATABASE_URL. A least-privileged DATABASE_URL
 * alone cannot migrate: say what to do instead of Postgres' "permission denied".
 */
async function migrate(env: NodeJS.ProcessEnv, serviceUrl: string): Promise<void> {
  const ownerUrl = env.MIGRATION_DATABASE_URL || serviceUrl;
  const which = env.MIGRATION_DATABASE_URL ? 'MIGRATION_DATABASE_URL' : 'DATABASE_URL';
  try {
    await applyMigrations(ownerUrl);
  } catch (err) {
    if (!env.MIGRATION_DATABASE_URL && /permission denied|must be owner/i.test((err as Error).message)) {
      throw new StartupError(
        'DATABASE_URL cannot apply migrations (it is least-privileged, as it should be): set MIGRATION_DATABASE_URL to the schema owner, or run the migration job first and set COUNTERSIGN_SKIP_MIGRATIONS=1',
      );
    }
    // The driver's first line names the server it could not reach, never the password.
    throw new StartupError(`cannot migrate the database at ${which}: ${firstLine((err as Error).message)}`);
  }
  if (env.MIGRATION_DATABASE_URL) await ensureServiceLogin(ownerUrl, serviceUrl);
}

/**
 * With COUNTERSIGN_SKIP_MIGRATIONS=1 another job migrates (Kubernetes, Compose): a rollout that
 * skipped or raced it would run this build on an older schema until some query failed. Stop
 * first, saying which migrations are missing.
 */
async function schemaIsCurrent(databaseUrl: string): Promise<void> {
  let missing: string[];
  try {
    missing = await pendingMigrations(databaseUrl);
  } catch (err) {
    const state = sqlStateOf(err);
    // No migrations table, or one the login may not read (the grant comes with a migration).
    if (state === '42P01') missing = ['(the database has not been migrated for this build)'];
    else if (state === '42501') {
      throw new StartupError(
        "DATABASE_URL's login may not read _prisma_migrations: make it a member of countersign_service (apps/server/src/migrate.ts does), which the migrations grant that read",
      );
    }
    else throw new StartupError(`cannot use the database at DATABASE_URL (${databaseUnavailableReason(err) ?? state ?? 'error'}): ${firstLine((err as Error).message)}`);
  }
  if (missing.length > 0) {
    throw new StartupError(`the database schema is behind this build: run the migration job first (COUNTERSIGN_SKIP_MIGRATIONS=1 is set); missing: ${missing.join(', ')}`);
  }
}

main().catch((err: Error) => {
  // Configuration errors carry their own precise message (variable, or file:line:column).
  process.stderr.write(`countersign: ${err instanceof SettingsError || err instanceof StartupError ? err.message : (portInUse(err) ?? err.stack ?? err.message)}\n`);
  process.exit(1);
});
