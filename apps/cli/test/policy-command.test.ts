import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { run } from '../src/commands/policy.ts';

const REPO = resolve(import.meta.dirname, '../../..');

async function cli(args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}) {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (c: Buffer) => (out += c.toString()));
  stderr.on('data', (c: Buffer) => (err += c.toString()));
  const code = await run(args, { stdout, stderr, env: opts.env ?? {}, cwd: opts.cwd ?? REPO });
  return { code, out, err };
}

describe('countersign policy (demo configuration)', () => {
  it('policy check passes on the demo config without warnings', async () => {
    const { code, out, err } = await cli(['check']);
    expect(err).toBe('');
    expect(code).toBe(0);
    expect(out).toMatch(/policy +.*config\/policy\.yaml: 11 rules, digest [0-9a-f]{64}/);
    expect(out).toMatch(/directory .*config\/directory\.yaml: 7 people, 2 agents, digest [0-9a-f]{64}/);
    expect(out).not.toContain('warning');
    expect(out.trimEnd().endsWith('ok')).toBe(true);
  });

  it('the demo policy passes its own tests', async () => {
    const { code, out } = await cli(['test', 'config/policy.test.yaml']);
    expect(out).not.toContain('✗');
    expect(out).toMatch(/^✓ reads are auto-approved$/m);
    expect(out).toMatch(/^29 passed, 0 failed$/m);
    expect(code).toBe(0);
  });
});

describe('countersign policy (edge cases)', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'countersign-cli-'));
    mkdirSync(join(dir, 'config'));
    copyFileSync(join(REPO, 'config/policy.yaml'), join(dir, 'config/policy.yaml'));
    copyFileSync(join(REPO, 'config/directory.yaml'), join(dir, 'config/directory.yaml'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('a failing test case makes policy test exit 1 and says why', async () => {
    writeFileSync(
      join(dir, 'bad.test.yaml'),
      `cases:
  - name: reads pass
    actor: deploy-bot
    intent: { action: { type: db.query, resource: orders-replica } }
    expect: { outcome: approve }
  - name: wishful thinking
    actor: deploy-bot
    intent: { action: { type: database.drop } }
    expect: { outcome: approve }
`,
    );
    const { code, out } = await cli(['test', 'bad.test.yaml'], { cwd: dir });
    expect(code).toBe(1);
    expect(out).toMatch(/^✓ reads pass$/m);
    expect(out).toMatch(/^✗ wishful thinking\n {4}expected approve, got refuse \(rules: \[unknown-destructive-actions, never-drop-databases-or-mint-root-keys\]/m);
    expect(out).toMatch(/bad\.test\.yaml:6:5\)$/m);
    expect(out).toMatch(/^1 passed, 1 failed$/m);
  });

  it('a broken policy makes policy check exit 1 with file:line:column', async () => {
    const path = join(dir, 'config/policy.yaml');
    writeFileSync(path, readFileSync(path, 'utf8').replace('action.type == "db.query"', 'action.type = "db.query"'));
    const { code, out, err } = await cli(['check'], { cwd: dir });
    expect(code).toBe(1);
    expect(out).toBe('');
    expect(err).toMatch(new RegExp(`^${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:\\d+:\\d+: rule read-only-actions: when: syntax error`));
  });

  it('reads the files named by flags or by the environment', async () => {
    const other = join(dir, 'other');
    mkdirSync(other);
    writeFileSync(join(other, 'p.yaml'), 'version: 1\nrules: []\n');
    const byFlag = await cli(['check', '--policy', 'other/p.yaml'], { cwd: dir });
    expect(byFlag.code).toBe(0);
    expect(byFlag.out).toMatch(/other\/p\.yaml: 0 rules/);

    const byEnv = await cli(['check'], { cwd: dir, env: { COUNTERSIGN_POLICY: 'other/p.yaml' } });
    expect(byEnv.out).toMatch(/other\/p\.yaml: 0 rules/);

    const missing = await cli(['check', '--directory=nope.yaml'], { cwd: dir });
    expect(missing.code).toBe(1);
    expect(missing.err).toBe(`${join(dir, 'nope.yaml')}:1:1: file not found\n`);
  });

  it('prints warnings from the cross-check', async () => {
    const path = join(dir, 'config/directory.yaml');
    writeFileSync(path, readFileSync(path, 'utf8').replace('roles: [cto]', 'roles: []'));
    const { code, out } = await cli(['check'], { cwd: dir });
    expect(code).toBe(0);
    expect(out).toMatch(/^warning: .*policy\.yaml:\d+: rule customer-pii-export lets role "cto" override, but nobody in the directory holds it$/m);
    expect(out).toMatch(/ok, with 1 warning\(s\)/);
  });

  it('warns when an approve rule rests on caller-supplied labels alone (the old demo rule)', async () => {
    const path = join(dir, 'config/policy.yaml');
    const oldRule = [
      '  - id: reads-are-fine',
      '    description: Reading data changes nothing; let any known actor do it.',
      `    when: 'has(risk.class) && risk.class == "read"'`,
      '    outcome: approve',
      '    reason: Read-only actions are approved automatically',
      '',
    ].join('\n');
    writeFileSync(path, readFileSync(path, 'utf8').replace('rules:\n', `rules:\n${oldRule}`));
    const { code, out } = await cli(['check'], { cwd: dir });
    expect(code).toBe(0);
    expect(out).toMatch(/^warning: .*policy\.yaml:\d+: rule reads-are-fine approves on caller-supplied labels alone \(risk\.class\): the caller chooses these freely; approve on action\.type, action\.resource or actor\.roles instead$/m);
    expect(out).toMatch(/ok, with 1 warning\(s\)/);
  });

  it('usage errors exit 2', async () => {
    expect((await cli([])).code).toBe(2);
    expect((await cli(['frobnicate'])).code).toBe(2);
    expect((await cli(['test'])).code).toBe(2);
    expect((await cli(['check', '--bogus'])).code).toBe(2);
    expect((await cli(['help'])).code).toBe(0);
  });
});
