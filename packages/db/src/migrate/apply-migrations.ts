import { NO_FILTER, withSchemaEngine } from './engine-session.ts';
import { readMigrationsFolder } from './migrations-folder.ts';
import { DEFAULT_MIGRATIONS_DIR } from './paths.ts';

export interface ApplyMigrationsResult {
  /** Migrations applied by this call, in order; empty when the database was already current. */
  applied: string[];
}

/**
 * `prisma migrate deploy` without the Prisma CLI: applies every migration in `migrationsDir` not
 * yet recorded in the database's `_prisma_migrations` table, recording each with Prisma's own
 * checksum. Idempotent. Safe when several processes start together: the engine holds Prisma's
 * advisory lock on the one connection it uses, so they apply one after the other.
 * Stricter than deploy in one way (fail closed): if a migration already applied was edited
 * since, nothing is applied and the call fails, naming it. A failed migration also stops it.
 */
export async function applyMigrations(
  databaseUrl: string,
  migrationsDir: string = DEFAULT_MIGRATIONS_DIR,
): Promise<ApplyMigrationsResult> {
  const migrationsList = await readMigrationsFolder(migrationsDir);
  if (migrationsList.migrationDirectories.length === 0) {
    throw new Error(`no migrations found in ${migrationsDir}`);
  }
  const output = await withSchemaEngine(databaseUrl, undefined, async (engine, driver) => {
    await driver.lock();
    const history = await engine.diagnoseMigrationHistory({
      migrationsList,
      optInToShadowDatabase: false,
      filters: NO_FILTER,
    });
    if (history.editedMigrationNames.length > 0) {
      throw new Error(
        `migrations edited after they were applied to this database: ${history.editedMigrationNames.join(', ')}; restore them (git checkout prisma/migrations) and add a new migration instead`,
      );
    }
    return engine.applyMigrations({ migrationsList, filters: NO_FILTER });
  });
  return { applied: output.appliedMigrationNames };
}
