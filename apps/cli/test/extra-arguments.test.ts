import { generateKeyPairSync } from 'node:crypto';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { databasesDroppedAfterAll } from '../../../test/support/database.ts';
import { dispatch } from '../src/dispatch.ts';
import { runCaptured } from './support/run-captured.ts';

// `keys revoke A B` revoked A, said "revoked", exited 0 and left B working; `keys create`,
// `keys list` and `export` ignored extra words too. Each is now a usage error (exit 2) before
// anything is done.

const ROOT = path.resolve(import.meta.dirname, '..', '..', '..');
const KEY = generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
const UNREACHABLE = 'postgres://countersign_app:pw@127.0.0.1:1/countersign';
const database = databasesDroppedAfterAll();

function cli(args: string[], env: NodeJS.ProcessEnv) {
  return runCaptured((io) => dispatch(args, { ...io, env, cwd: ROOT }));
}

describe('extra arguments', () => {
  it('keys revoke A B revokes neither, exit 2', async () => {
    const db = await database();
    const env = { DATABASE_URL: db.url, COUNTERSIGN_SIGNING_KEY: KEY };
    const prefixes: string[] = [];
    for (const principal of ['deploy-bot', 'alice']) {
      const created = await cli(['keys', 'create', '--principal', principal, '--json'], env);
      expect(created.code, created.err).toBe(0);
      prefixes.push(JSON.parse(created.out).prefix);
    }
    const run = await cli(['keys', 'revoke', ...prefixes], env);
    expect(run.code).toBe(2);
    expect(run.out).toBe('');
    expect(run.err).toContain(`unexpected argument "${prefixes[1]}": revoke one key at a time (nothing was revoked)`);
    const listed = await cli(['keys', 'list'], env);
    for (const prefix of prefixes) expect(listed.out).toMatch(new RegExp(`${prefix}  \\S+  active`));
    const one = await cli(['keys', 'revoke', prefixes[1]!], env);
    expect(one).toMatchObject({ code: 0, out: `revoked ${prefixes[1]}\n` });
  }, 60_000);

  for (const args of [
    ['keys', 'create', 'extra', '--principal', 'alice'],
    ['keys', 'create', '--principal', 'alice', 'extra'],
    ['keys', 'list', 'extra'],
    ['export', 'extra', '--out', '/nonexistent/audit.jsonl'],
  ]) {
    it(`${args.join(' ')}: usage error, exit 2, nothing done`, async () => {
      const run = await cli(args, { DATABASE_URL: UNREACHABLE, COUNTERSIGN_SIGNING_KEY: KEY });
      expect(run.code).toBe(2);
      expect(run.out).toBe('');
      expect(run.err).toMatch(/^unexpected argument "extra"\nusage/);
    });
  }
});
