import { generateKeyPairSync } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { databasesDroppedAfterAll } from '../../../test/support/database.ts';
import { dispatch } from '../src/dispatch.ts';
import { runCaptured } from './support/run-captured.ts';

// The repository's config/ is the demo organisation (its policy approves some actions by
// itself). The server has no default for the policy and directory with NODE_ENV=production;
// neither has the CLI now: `keys create` bound a key to a demo agent and `policy check` said
// "ok" for the demo files, both exit 0. An empty value counts as unset, and an empty --policy
// is refused rather than read as "the default"; files marked demo: true are refused even when
// named. Commands that never read the files (export, keys list and revoke) no longer need them.

const ROOT = path.resolve(import.meta.dirname, '..', '..', '..');
const KEY = generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
const UNREACHABLE = 'postgres://countersign_app:pw@127.0.0.1:1/countersign';
const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'countersign-no-config-'));
const database = databasesDroppedAfterAll();
afterAll(() => fs.rmSync(empty, { recursive: true, force: true }));
// The organisation's own files: the demo's without its `demo: true` line.
const own = fs.mkdtempSync(path.join(empty, 'own-'));
const ownPolicy = path.join(own, 'policy.yaml');
const ownDirectory = path.join(own, 'directory.yaml');
for (const [from, to] of [['config/policy.yaml', ownPolicy], ['config/directory.yaml', ownDirectory]] as const) {
  const text = fs.readFileSync(path.join(ROOT, from), 'utf8');
  if (!/^demo: true$/m.test(text)) throw new Error(`${from} is no longer marked demo: true`);
  fs.writeFileSync(to, text.replace(/^demo: true\n/m, ''));
}

// Thrown errors are what main.ts prints as "countersign: …" with exit 1.
function cli(args: string[], env: NodeJS.ProcessEnv, cwd = ROOT) {
  return runCaptured((io) => dispatch(args, { ...io, env, cwd }));
}

const BOTH = /with NODE_ENV=production, COUNTERSIGN_POLICY and COUNTERSIGN_DIRECTORY are required/;

describe('the CLI with NODE_ENV=production and no policy or directory named', () => {
  it('policy check stops naming both variables (and the options), exit 1, nothing checked', async () => {
    const run = await cli(['policy', 'check'], { NODE_ENV: 'production' });
    expect(run.code).toBe(1);
    expect(run.out).toBe('');
    expect(run.err).toMatch(BOTH);
    expect(run.err).toContain('(or --policy and --directory)');
    expect(run.err).toContain('not used in production');
  });

  it('an empty variable counts as unset; naming one names only the other', async () => {
    const emptyVars = await cli(['policy', 'check'], { NODE_ENV: 'production', COUNTERSIGN_POLICY: '', COUNTERSIGN_DIRECTORY: '' });
    expect(emptyVars.code).toBe(1);
    expect(emptyVars.err).toMatch(BOTH);
    const one = await cli(['policy', 'test', 'config/policy.test.yaml'], { NODE_ENV: 'production', COUNTERSIGN_POLICY: 'config/policy.yaml' });
    expect(one.code).toBe(1);
    expect(one.out).toBe('');
    expect(one.err).toMatch(/with NODE_ENV=production, COUNTERSIGN_DIRECTORY is required \(or --directory\): the path of your organisation's directory file/);
    expect(one.err).not.toContain('COUNTERSIGN_POLICY');
  });

  it("named by flag or variable, the organisation's files are read as before", async () => {
    const flags = await cli(['policy', 'check', '--policy', ownPolicy, '--directory', ownDirectory], { NODE_ENV: 'production' });
    expect(flags.err).toBe('');
    expect(flags.code).toBe(0);
    const vars = await cli(['policy', 'check'], { NODE_ENV: 'production', COUNTERSIGN_POLICY: ownPolicy, COUNTERSIGN_DIRECTORY: ownDirectory });
    expect(vars.err).toBe('');
    expect(vars.code).toBe(0);
  });

  it('the demo files (demo: true) are refused even when named, as the service refuses them', async () => {
    const env = { NODE_ENV: 'production', COUNTERSIGN_POLICY: 'config/policy.yaml', COUNTERSIGN_DIRECTORY: 'config/directory.yaml' };
    const check = await cli(['policy', 'check'], env);
    expect(check.code).toBe(1);
    expect(check.out).toBe('');
    expect(check.err).toContain(`COUNTERSIGN_POLICY: ${path.join(ROOT, 'config/policy.yaml')} is the demo policy (demo: true), refused with NODE_ENV=production`);
    expect(check.err).toContain(`COUNTERSIGN_DIRECTORY: ${path.join(ROOT, 'config/directory.yaml')} is the demo directory (demo: true)`);
    const create = await cli(['keys', 'create', '--principal', 'deploy-bot'], { ...env, COUNTERSIGN_POLICY: ownPolicy, DATABASE_URL: UNREACHABLE, COUNTERSIGN_SIGNING_KEY: KEY });
    expect(create.code).toBe(1);
    expect(create.out).toBe('');
    expect(create.err).toContain('COUNTERSIGN_DIRECTORY: ');
    expect(create.err).toContain('is the demo directory (demo: true), refused with NODE_ENV=production');
    expect(create.err).not.toContain('COUNTERSIGN_POLICY');
  });

  it('keys create stops naming both variables before creating anything', async () => {
    const run = await cli(['keys', 'create', '--principal', 'deploy-bot'], { NODE_ENV: 'production', DATABASE_URL: UNREACHABLE, COUNTERSIGN_SIGNING_KEY: KEY });
    expect(run.code).toBe(1);
    expect(run.out).toBe('');
    expect(run.err).toMatch(BOTH);
    expect(run.err).not.toContain('--policy');
  });

  it('export and keys list need neither file (a folder with no config/), in production too', async () => {
    const db = await database();
    const env = { NODE_ENV: 'production', DATABASE_URL: db.url, COUNTERSIGN_SIGNING_KEY: KEY };
    const listed = await cli(['keys', 'list'], env, empty);
    expect(listed.err).toBe('');
    expect(listed.code).toBe(0);
    const exported = await cli(['export', '--out', path.join(empty, 'audit.jsonl')], env, empty);
    expect(exported.err).toBe('');
    expect(exported.code).toBe(0);
    expect(fs.readFileSync(path.join(empty, 'audit.jsonl'), 'utf8')).toContain('trailer');
  }, 60_000);
});

describe('an empty --policy or --directory', () => {
  it('is refused (exit 2), never read as the demo default', async () => {
    for (const option of ['--policy', '--directory']) {
      const run = await cli(['policy', 'check', option, ''], {});
      expect(run.code, run.out).toBe(2);
      expect(run.out).toBe('');
      expect(run.err).toContain(`${option} is empty: name the ${option.slice(2)} file`);
    }
  });

  it('outside production an empty variable is unset, as for the server: the demo files', async () => {
    const run = await cli(['policy', 'check'], { COUNTERSIGN_POLICY: '', COUNTERSIGN_DIRECTORY: '' });
    expect(run.err).toBe('');
    expect(run.code).toBe(0);
    expect(run.out).toContain(path.join(ROOT, 'config/policy.yaml'));
  });
});
