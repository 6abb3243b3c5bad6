import { cp, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { createMigration } from '../src/migrate/create-migration.ts';
import { DEFAULT_MIGRATIONS_DIR, DEFAULT_SCHEMA_PATH } from '../src/migrate/paths.ts';

// `npm run db:migration -- NAME` (what `prisma migrate dev --create-only` does, offline):
// replays this project's migrations on a shadow database and writes what schema.prisma adds.
// Replaying them broke once a migration named Prisma's own table (20261205041500 grants
// reading "_prisma_migrations"), which the shadow database did not have.

const scratch: string[] = [];
afterAll(async () => {
  await Promise.all(scratch.map((folder) => rm(folder, { recursive: true, force: true })));
});

/** A copy of the project's migrations and schema, so that writing one leaves the repository alone. */
async function copyOfProject(): Promise<{ migrationsDir: string; schemaPath: string }> {
  const folder = await mkdtemp(join(tmpdir(), 'countersign-new-migration-'));
  scratch.push(folder);
  const migrationsDir = join(folder, 'migrations');
  await cp(DEFAULT_MIGRATIONS_DIR, migrationsDir, { recursive: true });
  const schemaPath = join(folder, 'schema.prisma');
  await cp(DEFAULT_SCHEMA_PATH, schemaPath);
  return { migrationsDir, schemaPath };
}

describe('npm run db:migration', () => {
  it('writes nothing when schema.prisma matches the migrations', async () => {
    const project = await copyOfProject();
    const before = await readdir(project.migrationsDir);
    const created = await createMigration('nothing_new', { shadowServerUrl: inject('databaseAdminUrl'), ...project });
    expect(created).toEqual({ name: undefined, file: undefined });
    expect(await readdir(project.migrationsDir)).toEqual(before);
  });

  it("writes the new column's migration after replaying every existing one on a shadow database", async () => {
    const project = await copyOfProject();
    const schema = await readFile(project.schemaPath, 'utf8');
    const edited = schema.replace(/model ConfigVersion \{\n/, 'model ConfigVersion {\n  note String?\n');
    expect(edited).not.toBe(schema);
    await writeFile(project.schemaPath, edited);
    const created = await createMigration('config_note', { shadowServerUrl: inject('databaseAdminUrl'), ...project });
    expect(created.name).toMatch(/^\d{14}_config_note$/);
    expect((await readFile(created.file!, 'utf8')).trim()).toMatch(/^-- AlterTable\nALTER TABLE "ConfigVersion" ADD COLUMN\s+"note" TEXT;$/);
  });
});
