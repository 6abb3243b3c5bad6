// Per-test isolation on the run's shared servers (see test/setup/global-setup.ts):
// a fresh, fully migrated database per call, cloned from a template that is migrated once per
// run, and random queue prefixes for Redis.
//
// As in production, the migrations run as the owner and the service connects as a login role
// that is only a member of countersign_service: every test that uses freshDatabase().url
// exercises least privilege. Tests that change artifacts on purpose use ownerUrl.
import { createHash, randomBytes } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterAll, inject } from 'vitest';
import { createDatabase, databaseUrl, dropDatabase } from '../../packages/devstack/src/index.ts';
import { applyMigrations, ensureServiceLogin } from '@countersign/db/migrate';
import './provided-context.ts';

const MIGRATIONS_DIR = resolve(fileURLToPath(new URL('.', import.meta.url)), '..', '..', 'prisma', 'migrations');

export interface TestDatabase {
  /**
   * Connection URL of this test's own database, as the service connects: the login role
   * countersign_app (member of countersign_service) after migrations; for emptyDatabase(), the owner.
   */
  url: string;
  /** The same database as its owner (the superuser that ran the migrations). */
  ownerUrl: string;
  /** Drops the database, terminating connections still open to it. */
  drop(): Promise<void>;
}

function randomName(prefix: string): string {
  return `${prefix}_${randomBytes(8).toString('hex')}`;
}

/** A new database with every migration in prisma/migrations applied (a template copy: fast). */
export async function freshDatabase(): Promise<TestDatabase> {
  const adminUrl = inject('databaseAdminUrl');
  const template = await migratedTemplate(adminUrl);
  const name = randomName('test');
  await createDatabase(adminUrl, name, { template });
  const ownerUrl = databaseUrl(adminUrl, name);
  return { url: serviceUrlOf(ownerUrl), ownerUrl, drop: () => dropDatabase(adminUrl, name) };
}

/**
 * For a test file that makes databases as its tests go: each call makes one (`make`, by default
 * freshDatabase), and every one made is dropped once the file's tests are done.
 */
export function databasesDroppedAfterAll(make: () => Promise<TestDatabase> = freshDatabase): () => Promise<TestDatabase> {
  const made: TestDatabase[] = [];
  afterAll(async () => {
    for (const db of made) await db.drop();
  });
  return async () => {
    const db = await make();
    made.push(db);
    return db;
  };
}

/** A new database with nothing in it, not even migrations (for migration tests). */
export async function emptyDatabase(): Promise<TestDatabase> {
  const adminUrl = inject('databaseAdminUrl');
  const name = randomName('empty');
  await createDatabase(adminUrl, name);
  const ownerUrl = databaseUrl(adminUrl, name);
  return { url: ownerUrl, ownerUrl, drop: () => dropDatabase(adminUrl, name) };
}

/** The login role the service connects as in tests (created with the migrated template). */
export const SERVICE_LOGIN = 'countersign_app';

/** `url`'s database as the service's login role. */
export function serviceUrlOf(url: string): string {
  const adminUrl = inject('databaseAdminUrl');
  const parsed = new URL(url);
  parsed.username = SERVICE_LOGIN;
  // Derived from the run's superuser password, so every test worker of the run agrees on it
  // without sharing state, and no two runs' clusters share it.
  parsed.password = createHash('sha256').update(`${SERVICE_LOGIN}\0${adminUrl}`).digest('hex').slice(0, 32);
  return parsed.toString();
}

/** `url`'s database as its owner: for tests that tamper with sealed evidence on purpose. */
export function ownerUrlOf(url: string): string {
  const admin = new URL(inject('databaseAdminUrl'));
  const parsed = new URL(url);
  parsed.username = admin.username;
  parsed.password = admin.password;
  return parsed.toString();
}

/** Superuser URL of the run's Postgres, for tests that manage databases themselves. */
export function databaseAdminUrlForTests(): string {
  return inject('databaseAdminUrl');
}

/** URL of the run's Redis. Shared by all test files: use randomQueuePrefix() for isolation. */
export function redisUrlForTests(): string {
  return inject('redisUrl');
}

/** A unique prefix for BullMQ queues / Redis keys, so parallel test files never collide. */
export function randomQueuePrefix(): string {
  return `test-${randomBytes(6).toString('hex')}`;
}

// One template per migrations content, built once per run by whichever worker gets there first.
let templateName: Promise<string> | undefined;

function migratedTemplate(adminUrl: string): Promise<string> {
  templateName ??= buildTemplate(adminUrl).catch((error: unknown) => {
    templateName = undefined;
    throw error;
  });
  return templateName;
}

async function migrationsDigest(): Promise<string> {
  const hash = createHash('sha256');
  const folders = (await readdir(MIGRATIONS_DIR, { withFileTypes: true }))
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort();
  for (const folder of folders) {
    hash.update(folder).update('\0');
    hash.update(await readFile(join(MIGRATIONS_DIR, folder, 'migration.sql'))).update('\0');
  }
  return hash.digest('hex').slice(0, 16);
}

async function buildTemplate(adminUrl: string): Promise<string> {
  const name = `template_${await migrationsDigest()}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    // Test files run in parallel workers: one builds, the others wait here and reuse it.
    await admin.query('SELECT pg_advisory_lock(hashtext($1))', [name]);
    const found = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (!found.rowCount) {
      const building = `${name}_build`;
      await dropDatabase(adminUrl, building);
      await createDatabase(adminUrl, building);
      const buildingUrl = databaseUrl(adminUrl, building);
      await applyMigrations(buildingUrl, MIGRATIONS_DIR);
      // The login is the server's, not the database's: created once, with the first template.
      await ensureServiceLogin(buildingUrl, serviceUrlOf(buildingUrl));
      // Renamed only once complete, so a template that exists is always fully migrated.
      await renameWhenIdle(admin, building, name);
    }
    return name;
  } finally {
    await admin.end();
  }
}

async function renameWhenIdle(admin: pg.Client, from: string, to: string): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      await admin.query(`ALTER DATABASE "${from}" RENAME TO "${to}"`);
      return;
    } catch (error) {
      // 55006: a just-closed migration connection has not left the server yet.
      if ((error as { code?: string }).code !== '55006' || attempt >= 50) throw error;
      await new Promise((done) => setTimeout(done, 100));
    }
  }
}
