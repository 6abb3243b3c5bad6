import { describe, expect, it } from 'vitest';
import { databasesDroppedAfterAll } from './support/database.ts';
import { asOwner, lastMigration, runImageMain as runMain, STARTED_OR_STOPPED } from './support/run-main.ts';

// Review of the production entry's startup (deploy review s5), run as the image runs it but
// from source: the schema check under COUNTERSIGN_SKIP_MIGRATIONS=1 on databases that are
// behind in ways other than a missing row, and one a newer build migrated (a rolling deploy).

const migrated = databasesDroppedAfterAll();


describe('review: the schema check under COUNTERSIGN_SKIP_MIGRATIONS=1', () => {
  it('a migration that failed half-way (finished_at NULL, as Prisma leaves it) counts as missing', async () => {
    const db = await migrated();
    const last = await asOwner(db, async (c) => {
      const name = await lastMigration(c);
      await c.query('UPDATE "_prisma_migrations" SET finished_at = NULL, logs = $2 WHERE migration_name = $1', [name, 'simulated failure']);
      return name;
    });
    const { code, out } = await runMain({ DATABASE_URL: db.url }, /(?!)/);
    expect(code, out).toBe(1);
    expect(out).toContain(`missing: ${last}`);
    expect(out, 'no stack').not.toMatch(/\n\s+at /);
  }, 120_000);

  it('a migration rolled back (prisma migrate resolve --rolled-back) counts as missing', async () => {
    const db = await migrated();
    const last = await asOwner(db, async (c) => {
      const name = await lastMigration(c);
      await c.query('UPDATE "_prisma_migrations" SET rolled_back_at = now() WHERE migration_name = $1', [name]);
      return name;
    });
    const { code, out } = await runMain({ DATABASE_URL: db.url }, /(?!)/);
    expect(code, out).toBe(1);
    expect(out).toContain(`missing: ${last}`);
  }, 120_000);

  it('a database a newer build migrated (one more migration) still serves this build: old pods of a rolling deploy keep restarting', async () => {
    const db = await migrated();
    await asOwner(db, (c) =>
      c.query(`INSERT INTO "_prisma_migrations" (id, checksum, finished_at, migration_name, started_at, applied_steps_count) VALUES ('review-future', 'x', now(), '29991231000000_from_a_newer_build', now(), 1)`),
    );
    const { out } = await runMain({ DATABASE_URL: db.url }, STARTED_OR_STOPPED);
    expect(out).toMatch(/countersign listening/);
  }, 120_000);

  it('two services starting at once on a current database both serve (the check only reads)', async () => {
    const db = await migrated();
    const [a, b] = await Promise.all([runMain({ DATABASE_URL: db.url }, STARTED_OR_STOPPED), runMain({ DATABASE_URL: db.url }, STARTED_OR_STOPPED)]);
    expect(a.out).toMatch(/countersign listening/);
    expect(b.out).toMatch(/countersign listening/);
  }, 180_000);
});
