import { readdir, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { MigrationList } from '@prisma/schema-engine-wasm/schema_engine_bg';

export const LOCKFILE_NAME = 'migration_lock.toml';
export const MIGRATION_FILE = 'migration.sql';

/**
 * Reads prisma/migrations the way the Prisma CLI does before handing it to the schema engine:
 * every sub-folder is a migration, applied in name order, its script in migration.sql.
 */
export async function readMigrationsFolder(migrationsDir: string): Promise<MigrationList> {
  const baseDir = resolve(migrationsDir);
  const lockContent = await readFile(join(baseDir, LOCKFILE_NAME), 'utf8').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return null;
    throw error;
  });
  const entries = await readdir(baseDir, { withFileTypes: true }).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return [];
    throw error;
  });
  const folders = entries
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort((a, b) => a.localeCompare(b));
  const migrationDirectories = await Promise.all(
    folders.map(async (folder) => {
      const content = await readFile(join(baseDir, folder, MIGRATION_FILE), 'utf8').then(
        (value) => ({ tag: 'ok' as const, value }),
        // The engine reports a missing/unreadable script itself, naming the migration.
        (error: Error) => ({ tag: 'error' as const, value: error.message }),
      );
      return { path: folder, migrationFile: { path: MIGRATION_FILE, content } };
    }),
  );
  return {
    baseDir,
    lockfile: { path: LOCKFILE_NAME, content: lockContent },
    shadowDbInitScript: '',
    migrationDirectories,
  };
}
