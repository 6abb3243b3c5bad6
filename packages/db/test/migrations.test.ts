import { createHash } from 'node:crypto';
import { cp, mkdtemp, readdir, readFile, rm, writeFile, appendFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { applyMigrations } from '../src/migrate/apply-migrations.ts';
import { diffDatabaseAgainstSchema } from '../src/migrate/diff-database.ts';
import { DEFAULT_MIGRATIONS_DIR, DEFAULT_SCHEMA_PATH } from '../src/migrate/paths.ts';
import { emptyDatabase, freshDatabase } from '../../../test/support/database.ts';
import type { TestDatabase } from '../../../test/support/database.ts';

const opened: TestDatabase[] = [];
const scratch: string[] = [];

afterAll(async () => {
  await Promise.all(opened.map((database) => database.drop()));
  await Promise.all(scratch.map((folder) => rm(folder, { recursive: true, force: true })));
});

async function track(database: Promise<TestDatabase>): Promise<TestDatabase> {
  const ready = await database;
  opened.push(ready);
  return ready;
}

async function scratchFolder(): Promise<string> {
  const folder = await mkdtemp(join(tmpdir(), 'countersign-migrations-'));
  scratch.push(folder);
  return folder;
}

async function query<T extends pg.QueryResultRow>(url: string, sql: string, values: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(sql, values)).rows;
  } finally {
    await client.end();
  }
}

async function migrationNames(): Promise<string[]> {
  const entries = await readdir(DEFAULT_MIGRATIONS_DIR, { withFileTypes: true });
  return entries.filter((entry) => entry.isDirectory()).map((entry) => entry.name).sort();
}

interface MigrationRow {
  migration_name: string;
  checksum: string;
  finished_at: Date | null;
  rolled_back_at: Date | null;
}

describe('applyMigrations', () => {
  it('applies every migration to an empty database and records it like prisma migrate deploy', async () => {
    const database = await track(emptyDatabase());
    const names = await migrationNames();
    expect(names.length).toBeGreaterThanOrEqual(2);

    const result = await applyMigrations(database.url);
    expect(result.applied).toEqual(names);

    const rows = await query<MigrationRow>(
      database.url,
      'SELECT migration_name, checksum, finished_at, rolled_back_at FROM "_prisma_migrations" ORDER BY migration_name',
    );
    expect(rows.map((row) => row.migration_name)).toEqual(names);
    for (const row of rows) {
      const script = await readFile(join(DEFAULT_MIGRATIONS_DIR, row.migration_name, 'migration.sql'));
      expect(row.checksum).toBe(createHash('sha256').update(script).digest('hex'));
      expect(row.finished_at).not.toBeNull();
      expect(row.rolled_back_at).toBeNull();
    }
  });

  it('is a no-op on a database that is already current', async () => {
    const database = await track(emptyDatabase());
    await applyMigrations(database.url);
    const again = await applyMigrations(database.url);
    expect(again.applied).toEqual([]);
    const rows = await query(database.url, 'SELECT 1 FROM "_prisma_migrations"');
    expect(rows).toHaveLength((await migrationNames()).length);
  });

  it('applies each migration once when two processes migrate the same database at once', async () => {
    const database = await track(emptyDatabase());
    const [first, second] = await Promise.all([applyMigrations(database.url), applyMigrations(database.url)]);
    const names = await migrationNames();
    // One of them did the work; the other waited on the lock and found nothing left to do.
    expect([...first.applied, ...second.applied].sort()).toEqual(names);
    const rows = await query<{ migration_name: string }>(database.url, 'SELECT migration_name FROM "_prisma_migrations"');
    expect(rows.map((row) => row.migration_name).sort()).toEqual(names);
  });

  it('refuses to go on when an applied migration was edited afterwards', async () => {
    const database = await track(emptyDatabase());
    const folder = await scratchFolder();
    await cp(DEFAULT_MIGRATIONS_DIR, folder, { recursive: true });
    await applyMigrations(database.url, folder);
    const [firstName] = await migrationNames();
    await appendFile(join(folder, firstName ?? '', 'migration.sql'), '\n-- edited after it was applied\n');
    await expect(applyMigrations(database.url, folder)).rejects.toThrow(
      new RegExp(`edited after they were applied to this database: ${firstName}`),
    );
  });
});

describe('schema.prisma and the migrations', () => {
  it('describe the same database: the migrated schema has no difference with schema.prisma', async () => {
    const database = await track(freshDatabase());
    // Non-empty means schema.prisma was edited without `npm run db:migration -- NAME`.
    expect(await diffDatabaseAgainstSchema(database.url)).toBe('');
  });

  it('the drift check sees a schema.prisma change that has no migration', async () => {
    const database = await track(freshDatabase());
    const folder = await scratchFolder();
    const edited = join(folder, 'schema.prisma');
    const original = await readFile(DEFAULT_SCHEMA_PATH, 'utf8');
    const withNewField = original.replace(/model ConfigVersion \{\n/, 'model ConfigVersion {\n  driftProbe String?\n');
    expect(withNewField).not.toBe(original);
    await writeFile(edited, withNewField);
    const diff = await diffDatabaseAgainstSchema(database.url, edited);
    expect(diff).toMatch(/ALTER TABLE "ConfigVersion" ADD COLUMN\s+"driftProbe" TEXT/);
  });
});

describe('the artifact store', () => {
  const artifact = (seq: number) => ({
    seq,
    kind: 'vote',
    at: new Date('2026-01-01T00:00:00Z'),
    canonical: `{"seq":${seq}}`,
    hash: createHash('sha256').update(String(seq)).digest('hex'),
    prevHash: '0'.repeat(64),
    signature: 'sig',
    keyId: 'key-1',
  });

  async function insertArtifact(url: string, seq: number): Promise<void> {
    const row = artifact(seq);
    await query(
      url,
      'INSERT INTO "Artifact" ("seq","kind","at","canonical","hash","prevHash","signature","keyId") VALUES ($1,$2,$3,$4,$5,$6,$7,$8)',
      [row.seq, row.kind, row.at, row.canonical, row.hash, row.prevHash, row.signature, row.keyId],
    );
  }

  it('starts its chain head at sequence 0 and the all-zero hash', async () => {
    const database = await track(freshDatabase());
    const rows = await query<{ id: number; seq: string; hash: string }>(database.url, 'SELECT id, seq, hash FROM "ArtifactHead"');
    expect(rows).toEqual([{ id: 1, seq: '0', hash: '0'.repeat(64) }]);
  });

  it('accepts INSERT but the database refuses UPDATE, DELETE and TRUNCATE, even to its owner', async () => {
    const database = await track(freshDatabase());
    await insertArtifact(database.url, 1);
    await insertArtifact(database.url, 2);

    // The service's role has no such privilege at all (test/db-least-privilege.test.ts); the
    // trigger is what still stops the owner, who has every privilege.
    await expect(query(database.ownerUrl, `UPDATE "Artifact" SET "kind" = 'forged' WHERE "seq" = 1`)).rejects.toThrow(
      /artifact_append_only: UPDATE/,
    );
    await expect(query(database.ownerUrl, 'DELETE FROM "Artifact" WHERE "seq" = 2')).rejects.toThrow(
      /artifact_append_only: DELETE/,
    );
    await expect(query(database.ownerUrl, 'TRUNCATE "Artifact"')).rejects.toThrow(/artifact_append_only: TRUNCATE/);

    const rows = await query<{ seq: string; kind: string }>(database.url, 'SELECT seq, kind FROM "Artifact" ORDER BY seq');
    expect(rows).toEqual([
      { seq: '1', kind: 'vote' },
      { seq: '2', kind: 'vote' },
    ]);
  });
});
