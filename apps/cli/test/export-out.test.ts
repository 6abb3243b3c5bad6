import { spawn } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freshDatabase, type TestDatabase } from '../../../test/support/database.ts';

// `countersign export --out FILE` writes evidence: a file it cannot create is a clear error
// (not Node's unhandled 'error' event with its stack), an export that fails half-way never
// replaces the file already there (it was truncated at open before), and the file holds
// intents, so only its owner may read it.

const ROOT = path.resolve(import.meta.dirname, '..', '..', '..');
const BIN = path.join(ROOT, 'apps', 'cli', 'bin', 'countersign.mjs');
const KEY = generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'countersign-export-out-'));
const databases: TestDatabase[] = [];

afterAll(async () => {
  for (const db of databases) await db.drop();
  fs.rmSync(work, { recursive: true, force: true });
});

function cli(args: string[], env: Record<string, string>): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, env: { PATH: process.env.PATH ?? '', COUNTERSIGN_SIGNING_KEY: KEY, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => (stdout += c));
    child.stderr.on('data', (c) => (stderr += c));
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

const UNREACHABLE = 'postgres://countersign_app:pw@127.0.0.1:1/countersign';

describe('countersign export --out', () => {
  it('names the file it cannot write, exit 1, no stack trace', async () => {
    const target = path.join(work, 'missing-folder', 'audit.jsonl');
    const run = await cli(['export', '--out', target], { DATABASE_URL: UNREACHABLE });
    expect(run.status).toBe(1);
    expect(run.stderr).toBe(`countersign export: cannot write ${target}: ENOENT\n`);
  }, 60_000);

  it('leaves the file already there untouched, and no partial file, when the export fails', async () => {
    const dir = fs.mkdtempSync(path.join(work, 'keep-'));
    const target = path.join(dir, 'audit.jsonl');
    fs.writeFileSync(target, 'last week\'s export\n');
    const run = await cli(['export', '--out', target], { DATABASE_URL: UNREACHABLE });
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/^countersign: [\s\S]*(ECONNREFUSED|Can't reach database server)/);
    expect(fs.readFileSync(target, 'utf8')).toBe('last week\'s export\n');
    expect(fs.readdirSync(dir)).toEqual(['audit.jsonl']);
  }, 60_000);

  it('writes the same export as stdout, readable by its owner only, replacing the old file once complete', async () => {
    const db = await freshDatabase();
    databases.push(db);
    const dir = fs.mkdtempSync(path.join(work, 'ok-'));
    const target = path.join(dir, 'audit.jsonl');
    fs.writeFileSync(target, 'old\n', { mode: 0o644 });
    const toFile = await cli(['export', '--out', target], { DATABASE_URL: db.url });
    expect(toFile.status, toFile.stderr).toBe(0);
    const toPipe = await cli(['export'], { DATABASE_URL: db.url });
    expect(toPipe.status, toPipe.stderr).toBe(0);
    const written = fs.readFileSync(target, 'utf8');
    expect(written).toMatch(/"trailer"|trailer/);
    // Same records (the trailer's own time may differ between the two runs).
    expect(written.split('\n').slice(0, -2)).toEqual(toPipe.stdout.split('\n').slice(0, -2));
    expect(fs.statSync(target).mode & 0o777).toBe(0o600);
    expect(fs.readdirSync(dir)).toEqual(['audit.jsonl']);
  }, 120_000);
});
