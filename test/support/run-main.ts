import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { redisUrlForTests, type TestDatabase } from './database.ts';

// The production entry (apps/server/src/main.ts) run from source in a process of its own, as the
// image runs it: for the tests of what it does at start (migrations, settings, startup errors).

const ROOT = path.resolve(import.meta.dirname, '..', '..');

/**
 * Starts main.ts with the test Redis, port 0 and a keys folder of its own, plus `env` (less the
 * `unset` names), and resolves when it exits: sent SIGTERM once its output matches `until`
 * (`/(?!)/` waits for it to stop by itself), SIGKILL after 90 s.
 */
export function runMain(env: Record<string, string>, until: RegExp, unset: string[] = [], cwd = ROOT): Promise<{ code: number | null; out: string }> {
  const keys = fs.mkdtempSync(path.join(os.tmpdir(), 'countersign-main-'));
  const childEnv: NodeJS.ProcessEnv = { ...process.env, HOST: '127.0.0.1', PORT: '0', REDIS_URL: redisUrlForTests(), COUNTERSIGN_KEYS_DIR: keys, LOG_LEVEL: 'info', ...env };
  for (const name of unset) delete childEnv[name];
  const child = spawn(process.execPath, [path.join(ROOT, 'node_modules/tsx/dist/cli.mjs'), path.join(ROOT, 'apps/server/src/main.ts')], { cwd, env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  return new Promise((resolve) => {
    const onData = (d: Buffer) => {
      out += d.toString();
      if (until.test(out)) child.kill('SIGTERM');
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    const guard = setTimeout(() => child.kill('SIGKILL'), 90_000);
    child.once('exit', (code) => {
      clearTimeout(guard);
      fs.rmSync(keys, { recursive: true, force: true });
      resolve({ code, out });
    });
  });
}

/** main.ts as the image runs it: COUNTERSIGN_SKIP_MIGRATIONS=1 (a job migrated) unless `env` says otherwise. */
export const runImageMain = (env: Record<string, string>, until: RegExp, unset: string[] = [], cwd?: string) => runMain({ COUNTERSIGN_SKIP_MIGRATIONS: '1', ...env }, until, unset, cwd);

/** Output that says main.ts started or stopped on an error. */
export const STARTED_OR_STOPPED = /countersign listening|countersign: /;

/** Runs `work` on a connection as the database's owner. */
export async function asOwner<T>(db: TestDatabase, work: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: db.ownerUrl });
  await c.connect();
  try {
    return await work(c);
  } finally {
    await c.end();
  }
}

/** The name of the last migration the database recorded. */
export const lastMigration = (c: pg.Client): Promise<string> =>
  c.query<{ name: string }>('SELECT migration_name AS name FROM "_prisma_migrations" ORDER BY migration_name DESC LIMIT 1').then((r) => r.rows[0]!.name);
