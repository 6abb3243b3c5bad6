import { applyMigrations } from '@countersign/db/migrate';
import { createLogger } from './logger.ts';

// Applies pending migrations to DATABASE_URL and exits: the entry of the Kubernetes migration
// Job (infra/k8s/base/migrate-job.yaml), which runs as the database owner before a rollout
// while the service processes start with COUNTERSIGN_SKIP_MIGRATIONS=1. Idempotent and safe
// to run twice at once (applyMigrations holds Prisma's advisory lock). Needs no Redis, no
// keys and no config files.
async function main(): Promise<void> {
  const logger = createLogger(process.env.LOG_LEVEL ?? 'info');
  const url = process.env.DATABASE_URL;
  if (!url || !/^postgres(ql)?:\/\//.test(url)) {
    // Never the value: it carries a password.
    throw new Error('invalid configuration:\n  DATABASE_URL: must be a postgres:// URL');
  }
  const { applied } = await applyMigrations(url);
  logger.info({ applied }, applied.length === 0 ? 'database schema already current' : `applied ${applied.length} migration(s)`);
}

main().catch((err: Error) => {
  process.stderr.write(`countersign migrate: ${err.message}\n`);
  process.exit(1);
});
