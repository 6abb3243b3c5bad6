import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { emptyDatabase, serviceUrlOf, type TestDatabase } from './support/database.ts';
import { runMain } from './support/run-main.ts';

// The production entry (apps/server/src/main.ts) migrates as the schema owner: with
// MIGRATION_DATABASE_URL it migrates an empty database and starts as the least-privileged
// DATABASE_URL; with a least-privileged DATABASE_URL alone it stops with what to do.

const root = path.resolve(import.meta.dirname, '..');
const dbs: TestDatabase[] = [];
afterAll(async () => {
  for (const db of dbs) await db.drop();
});

/** An empty database migrated by its owner, with the service's login, as the migration job leaves it. */
async function migratedDatabase(): Promise<TestDatabase> {
  const db = await emptyDatabase();
  dbs.push(db);
  const { applyMigrations, ensureServiceLogin } = await import('@countersign/db/migrate');
  await applyMigrations(db.ownerUrl);
  await ensureServiceLogin(db.ownerUrl, serviceUrlOf(db.ownerUrl));
  return db;
}

describe('main.ts migrations', () => {
  it('migrates as MIGRATION_DATABASE_URL, then serves as the service login', async () => {
    const db = await emptyDatabase();
    dbs.push(db);
    const { out } = await runMain({ MIGRATION_DATABASE_URL: db.ownerUrl, DATABASE_URL: serviceUrlOf(db.ownerUrl) }, /countersign listening|countersign: |Error/);
    expect(out).toMatch(/countersign listening/);
    // It says which Ed25519 implementation signs (packages/evidence/src/ed25519.ts).
    expect(out).toMatch(/"ed25519":"libsodium"[^\n]*countersign listening/);
  }, 120_000);

  it('a least-privileged DATABASE_URL alone cannot migrate: it says what to set', async () => {
    const db = await emptyDatabase();
    dbs.push(db);
    // Create the login (as the migration job would) without migrating this database.
    const { ensureServiceLogin } = await import('@countersign/db/migrate');
    await ensureServiceLogin(db.ownerUrl, serviceUrlOf(db.ownerUrl)).catch(() => undefined);
    // It exits by itself (code 1); the guard only ends a hang.
    const { code, out } = await runMain({ DATABASE_URL: serviceUrlOf(db.ownerUrl) }, /(?!)/);
    expect(code).toBe(1);
    expect(out).toMatch(/MIGRATION_DATABASE_URL/);
  }, 120_000);

  it('a misspelt COUNTERSIGN_ variable stops it before anything else, naming the setting and not the value', async () => {
    // COUNTERSIGN_METRICS_TOKEN misspelt would otherwise leave /metrics open, silently.
    const { code, out } = await runMain({ DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none', COUNTERSIGN_METRICS_TOKNE: 'a-secret-metrics-token-of-32-chars!' }, /(?!)/);
    expect(code).toBe(1);
    expect(out).toMatch(/did you mean COUNTERSIGN_METRICS_TOKEN\?\n\s+→ at COUNTERSIGN_METRICS_TOKNE/);
    expect(out).not.toContain('a-secret-metrics-token');
    expect(out).not.toMatch(/ECONNREFUSED|at .*\.ts:\d+/);
  }, 120_000);

  it('what it cannot start without is said in one line naming the variable: no stack, no password', async () => {
    const unreachable = 'postgres://nobody:hunter2-password@127.0.0.1:1/none';
    const stops: { env: Record<string, string>; says: RegExp }[] = [
      { env: { DATABASE_URL: 'postgres://u:hunter2-p@ss@h:port/db' }, says: /must be a URL \(percent-encode special characters in the password\)\n\s+→ at DATABASE_URL/ },
      { env: { DATABASE_URL: unreachable }, says: /cannot migrate the database at DATABASE_URL: Can't reach database server at `127\.0\.0\.1:1`/ },
      { env: { DATABASE_URL: unreachable, COUNTERSIGN_SKIP_MIGRATIONS: '1' }, says: /cannot use the database at DATABASE_URL \(ECONNREFUSED\)/ },
    ];
    for (const { env, says } of stops) {
      const { code, out } = await runMain(env, /(?!)/);
      expect(code, out).toBe(1);
      expect(out).toMatch(says);
      expect(out).not.toContain('hunter2');
      expect(out, 'no stack').not.toMatch(/\n\s+at /);
    }
    // No signing key given and no keys folder to make one in (on a migrated database): what to set.
    // In a folder of its own: the default keys folder (.countersign/keys) of a checkout where
    // `npm start` ran holds a key.
    const db = await migratedDatabase();
    const elsewhere = fs.mkdtempSync(path.join(os.tmpdir(), 'countersign-nokey-'));
    const config = { COUNTERSIGN_POLICY: path.join(root, 'config/policy.yaml'), COUNTERSIGN_DIRECTORY: path.join(root, 'config/directory.yaml') };
    const { code, out } = await runMain({ DATABASE_URL: serviceUrlOf(db.ownerUrl), COUNTERSIGN_SKIP_MIGRATIONS: '1', COUNTERSIGN_WEBHOOK_SECRET: 'a-webhook-master-secret-of-32-characters', ...config }, /(?!)/, ['COUNTERSIGN_KEYS_DIR'], elsewhere);
    fs.rmSync(elsewhere, { recursive: true, force: true });
    expect(code, out).toBe(1);
    expect(out).toMatch(/no signing key .*: set COUNTERSIGN_SIGNING_KEY_FILE \(a mounted secret holding the PEM\), or COUNTERSIGN_KEYS_DIR/);
    expect(out, 'no stack').not.toMatch(/\n\s+at /);
    // COUNTERSIGN_ED25519=libsodium where its addon cannot load: stops before it listens, not at the
    // first decision (review s17 a, F2). NODE_OPTIONS preloads a stand-in for such a platform.
    const blocked = path.join(root, 'packages/evidence/test/fixtures/no-sodium.cjs');
    const forced = await runMain({ DATABASE_URL: serviceUrlOf(db.ownerUrl), COUNTERSIGN_SKIP_MIGRATIONS: '1', COUNTERSIGN_ED25519: 'libsodium', NODE_OPTIONS: `--require ${blocked}`, ...config }, /(?!)/);
    expect(forced.code, forced.out).toBe(1);
    expect(forced.out).toMatch(/^countersign: COUNTERSIGN_ED25519=libsodium, but sodium-native cannot load/m);
    expect(forced.out).not.toMatch(/countersign listening/);
    expect(forced.out, 'no stack').not.toMatch(/\n\s+at /);
  }, 180_000);

  it('with COUNTERSIGN_SKIP_MIGRATIONS=1 it serves only a database migrated for this build', async () => {
    // Not migrated (the login made, as a migration job would, but no migration applied).
    const bare = await emptyDatabase();
    dbs.push(bare);
    const { ensureServiceLogin } = await import('@countersign/db/migrate');
    await ensureServiceLogin(bare.ownerUrl, serviceUrlOf(bare.ownerUrl)).catch(() => undefined);
    const behind = await runMain({ DATABASE_URL: serviceUrlOf(bare.ownerUrl), COUNTERSIGN_SKIP_MIGRATIONS: '1' }, /(?!)/);
    expect(behind.code, behind.out).toBe(1);
    expect(behind.out).toMatch(/the database schema is behind this build: run the migration job first/);
    expect(behind.out, 'no stack').not.toMatch(/\n\s+at /);
    // One migration short: named.
    const short = await migratedDatabase();
    const { default: pg } = await import('pg');
    const owner = new pg.Client({ connectionString: short.ownerUrl });
    await owner.connect();
    const last = (await owner.query<{ name: string }>('SELECT migration_name AS name FROM "_prisma_migrations" ORDER BY migration_name DESC LIMIT 1')).rows[0]!.name;
    await owner.query('DELETE FROM "_prisma_migrations" WHERE migration_name = $1', [last]);
    await owner.end();
    const oneShort = await runMain({ DATABASE_URL: serviceUrlOf(short.ownerUrl), COUNTERSIGN_SKIP_MIGRATIONS: '1' }, /(?!)/);
    expect(oneShort.code, oneShort.out).toBe(1);
    expect(oneShort.out).toContain(`missing: ${last}`);
    // Migrated: it serves, as the least-privileged login.
    const current = await migratedDatabase();
    const served = await runMain({ DATABASE_URL: serviceUrlOf(current.ownerUrl), COUNTERSIGN_SKIP_MIGRATIONS: '1' }, /countersign listening|countersign: /);
    expect(served.out).toMatch(/countersign listening/);
  }, 180_000);

  it('without a keys folder to make one in, it stops unless the webhook master secret is given', async () => {
    const unset = ['COUNTERSIGN_KEYS_DIR', 'COUNTERSIGN_WEBHOOK_SECRET', 'COUNTERSIGN_WEBHOOK_SECRET_FILE'];
    const { code, out } = await runMain({ DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none' }, /(?!)/, unset);
    expect(code).toBe(1);
    expect(out).toMatch(/one webhook master secret shared by every process/);
    expect(out).toMatch(/→ at COUNTERSIGN_WEBHOOK_SECRET_FILE/);
    // Given, it goes on (here to the database it cannot reach: that is the next thing it needs).
    const given = await runMain({ DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none', COUNTERSIGN_WEBHOOK_SECRET: 'a-webhook-master-secret-of-32-characters' }, /(?!)/, unset.slice(0, 1));
    expect(given.out).not.toMatch(/webhook master secret/);
    expect(given.out).not.toContain('a-webhook-master-secret');
  }, 120_000);
});
