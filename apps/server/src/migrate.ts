import { applyMigrations, ensureServiceLogin } from '@countersign/db/migrate';
import { createLogger } from './logger.ts';

// Applies pending migrations and exits: the entry of the Kubernetes migration Job
// (infra/k8s/base/migrate-job.yaml) and of Compose's `migrate` service, which run as the
// database owner before the service processes start with COUNTERSIGN_SKIP_MIGRATIONS=1.
// Idempotent and safe to run twice at once (applyMigrations holds Prisma's advisory lock).
// Needs no Redis, no keys and no config files.
//
// MIGRATION_DATABASE_URL is the owner; DATABASE_URL the service's login role, which is then
// created if missing and made a member of countersign_service (ensureServiceLogin: it also
// refuses a login that could change artifacts). With DATABASE_URL alone, that URL is the
// owner and only the migrations run.
async function main(): Promise<void> {
  const logger = createLogger(process.env.LOG_LEVEL ?? 'info');
  const ownerUrl = process.env.MIGRATION_DATABASE_URL || process.env.DATABASE_URL;
  const serviceUrl = process.env.MIGRATION_DATABASE_URL ? process.env.DATABASE_URL : undefined;
  // Never the value: it carries a password.
  if (!isPostgresUrl(ownerUrl)) {
    const name = process.env.MIGRATION_DATABASE_URL ? 'MIGRATION_DATABASE_URL' : 'DATABASE_URL';
    throw new Error(`invalid configuration:\n  ${name}: must be a postgres:// URL`);
  }
  if (serviceUrl !== undefined && !isPostgresUrl(serviceUrl)) throw new Error('invalid configuration:\n  DATABASE_URL: must be a postgres:// URL');
  const { applied } = await applyMigrations(ownerUrl);
  logger.info({ applied }, applied.length === 0 ? 'database schema already current' : `applied ${applied.length} migration(s)`);
  if (serviceUrl === undefined) return;
  const login = await ensureServiceLogin(ownerUrl, serviceUrl);
  if (login.sameAsOwner) {
    logger.warn({ role: login.role }, 'the service connects as the schema owner: only the append-only trigger protects the evidence; give it a role of its own');
  } else {
    logger.info({ role: login.role, changes: login.changes }, 'service database login ready');
  }
}

function isPostgresUrl(url: string | undefined): url is string {
  return url !== undefined && /^postgres(ql)?:\/\//.test(url);
}

main().catch((err: Error) => {
  process.stderr.write(`countersign migrate: ${err.message}\n`);
  process.exit(1);
});
