import pg from 'pg';
import { readdir } from 'node:fs/promises';
import { DEFAULT_MIGRATIONS_DIR } from './paths.ts';

/**
 * The migrations of `migrationsDir` (this build's) that the database has not applied, in name
 * order; empty when the schema is current. Read as the service's own login (it may read
 * `_prisma_migrations` and nothing else of it); a database it cannot ask throws.
 */
export async function pendingMigrations(databaseUrl: string, migrationsDir = DEFAULT_MIGRATIONS_DIR): Promise<string[]> {
  const entries = await readdir(migrationsDir, { withFileTypes: true });
  const bundled = entries.filter((e) => e.isDirectory()).map((e) => e.name).sort((a, b) => a.localeCompare(b));
  const client = new pg.Client({ connectionString: databaseUrl, connectionTimeoutMillis: 5_000 });
  await client.connect();
  try {
    const { rows } = await client.query<{ name: string }>(
      'SELECT migration_name AS name FROM "_prisma_migrations" WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL',
    );
    const applied = new Set(rows.map((r) => r.name));
    return bundled.filter((name) => !applied.has(name));
  } finally {
    await client.end().catch(() => undefined);
  }
}
