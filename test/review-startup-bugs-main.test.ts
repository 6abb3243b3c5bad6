import { spawn } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { databasesDroppedAfterAll, redisUrlForTests } from './support/database.ts';
import { asOwner, runImageMain as runMain, STARTED_OR_STOPPED } from './support/run-main.ts';

// Review of the production entry's startup (s5): operator-fixable failures that printed a stack
// or did not name the variable (findings in /work/notes/review-s5/startup.md), each failing
// before its fix.

const root = path.resolve(import.meta.dirname, '..');
const migrated = databasesDroppedAfterAll();


describe('review: operator-fixable startup failures', () => {
  it('R1: an unreachable REDIS_URL says so in one line naming the variable, no stack', async () => {
    const db = await migrated();
    const closed = await closedPort();
    const { code, out } = await runMain({ DATABASE_URL: db.url, REDIS_URL: `redis://:hunter2-redis@127.0.0.1:${closed}` }, /(?!)/);
    expect(code, out).toBe(1);
    expect(out).toMatch(/REDIS_URL/);
    expect(out).not.toContain('hunter2');
    expect(out, 'no stack').not.toMatch(/\n\s+at /);
  }, 120_000);

  it('R2: a COUNTERSIGN_WEBHOOK_SECRET_FILE that is not there is named, no stack', async () => {
    const db = await migrated();
    const { code, out } = await runMain({ DATABASE_URL: db.url, COUNTERSIGN_WEBHOOK_SECRET_FILE: '/nonexistent/countersign_webhook_secret' }, /(?!)/);
    expect(code, out).toBe(1);
    expect(out).toMatch(/COUNTERSIGN_WEBHOOK_SECRET_FILE/);
    expect(out, 'no stack').not.toMatch(/\n\s+at /);
  }, 120_000);

  it('R3: a COUNTERSIGN_SIGNING_KEY_FILE that is not there is named, no stack', async () => {
    const db = await migrated();
    const { code, out } = await runMain({ DATABASE_URL: db.url, COUNTERSIGN_SIGNING_KEY_FILE: '/nonexistent/signing-key.pem', COUNTERSIGN_WEBHOOK_SECRET: 'a-webhook-master-secret-of-32-characters' }, /(?!)/, ['COUNTERSIGN_KEYS_DIR']);
    expect(code, out).toBe(1);
    expect(out).toMatch(/COUNTERSIGN_SIGNING_KEY_FILE/);
    expect(out, 'no stack').not.toMatch(/\n\s+at /);
  }, 120_000);

  it('R4: COUNTERSIGN_METRICS_PORT taken is said in one line naming it, no stack', async () => {
    const db = await migrated();
    const taken = net.createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const port = (taken.address() as net.AddressInfo).port;
    try {
      const { code, out } = await runMain({ DATABASE_URL: db.url, COUNTERSIGN_METRICS_PORT: String(port) }, /(?!)/);
      expect(code, out).toBe(1);
      expect(out).toMatch(/COUNTERSIGN_METRICS_PORT|already in use/);
      expect(out, 'no stack').not.toMatch(/\n\s+at /);
    } finally {
      taken.close();
    }
  }, 120_000);

  it('R5: an install upgraded from before 6dc2baf, whose webhook master sits in the default keys folder, still starts with it', async () => {
    const db = await migrated();
    const cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'countersign-upgrade-'));
    const keysDir = path.join(cwd, '.countersign', 'keys');
    fs.mkdirSync(keysDir, { recursive: true });
    fs.writeFileSync(path.join(keysDir, 'webhook-master.key'), 'an-existing-webhook-master-secret-agents-already-use\n', { mode: 0o600 });
    const pem = generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    fs.writeFileSync(path.join(cwd, 'signing-key.pem'), pem, { mode: 0o600 });
    const config = { COUNTERSIGN_POLICY: path.join(root, 'config/policy.yaml'), COUNTERSIGN_DIRECTORY: path.join(root, 'config/directory.yaml') };
    try {
      const { out } = await runMain({ DATABASE_URL: db.url, COUNTERSIGN_SIGNING_KEY_FILE: path.join(cwd, 'signing-key.pem'), ...config }, STARTED_OR_STOPPED, ['COUNTERSIGN_KEYS_DIR', 'COUNTERSIGN_WEBHOOK_SECRET', 'COUNTERSIGN_WEBHOOK_SECRET_FILE'], cwd);
      expect(out).toMatch(/countersign listening/);
    } finally {
      fs.rmSync(cwd, { recursive: true, force: true });
    }
  }, 120_000);
  it('R7: a migrated database whose service login may not read _prisma_migrations says so, not "not migrated"', async () => {
    const db = await migrated();
    await asOwner(db, (c) => c.query('REVOKE SELECT ON "_prisma_migrations" FROM countersign_service'));
    const { code, out } = await runMain({ DATABASE_URL: db.url }, /(?!)/);
    expect(code, out).toBe(1);
    expect(out).not.toMatch(/has not been migrated/);
    expect(out).toMatch(/_prisma_migrations|countersign_service|permission/);
  }, 120_000);
  it('R8: npm start with COUNTERSIGN_METRICS_PORT taken does not blame PORT', async () => {
    const db = await migrated();
    const taken = net.createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const port = (taken.address() as net.AddressInfo).port;
    const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'countersign-review-dev-'));
    try {
      const child = spawn(process.execPath, [path.join(root, 'infra/dev/start.mjs')], {
        cwd: root,
        env: { ...process.env, PORT: '0', COUNTERSIGN_STATE_DIR: stateDir, DATABASE_URL: db.ownerUrl, REDIS_URL: redisUrlForTests(), COUNTERSIGN_METRICS_PORT: String(port) },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
      const guard = setTimeout(() => child.kill('SIGKILL'), 90_000);
      const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
      clearTimeout(guard);
      expect(code, out).toBe(1);
      expect(out).toMatch(new RegExp(`port ${port}|COUNTERSIGN_METRICS_PORT`));
      expect(out).not.toContain('PORT=8081 npm start');
    } finally {
      taken.close();
      fs.rmSync(stateDir, { recursive: true, force: true });
    }
  }, 120_000);
});

async function closedPort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}
