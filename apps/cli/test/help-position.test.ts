import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { dispatch } from '../src/dispatch.ts';
import { runCaptured } from './support/run-captured.ts';

// --help and -h mean help only where an option stands: `verify help --key pub.pem` and
// `verify --key pub.pem -- -h` printed the usage and exited 0 — the status that means
// "verified" — without reading the file. A file named help or -h is a file; an option's value
// (`--label -h`) is that option's value.

const dir = mkdtempSync(join(tmpdir(), 'countersign-help-position-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
writeFileSync(join(dir, 'pub.pem'), generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'pem' }).toString());
// Not an export at all: verification must read it and fail.
for (const name of ['help', '-h', '--help']) writeFileSync(join(dir, name), 'not an export\n');

function cli(args: string[]) {
  return runCaptured((io) => dispatch(args, { ...io, env: { DATABASE_URL: '' }, cwd: dir }), { rethrow: true });
}

describe('where --help means help', () => {
  it('verify help --key pub.pem verifies the file named help (exit 1 here)', async () => {
    const run = await cli(['verify', 'help', '--key', 'pub.pem']);
    expect(run.out).toMatch(/^FAILED: line 1: /);
    expect(run.out).not.toContain('usage');
    expect(run.code).toBe(1);
    const json = await cli(['verify', 'help', '--key', 'pub.pem', '--json']);
    expect(JSON.parse(json.out)).toMatchObject({ ok: false });
    expect(json.code).toBe(1);
  });

  it('after --, -h and --help are files', async () => {
    for (const name of ['-h', '--help']) {
      const run = await cli(['verify', '--key', 'pub.pem', '--', name]);
      expect(run.out).toMatch(/^FAILED: line 1: /);
      expect(run.code).toBe(1);
    }
  });

  it('as an option value, -h is not help (here a usage error: exit 2, never 0)', async () => {
    const verify = await cli(['verify', 'help', '--key', '-h']);
    expect(verify.code).toBe(2);
    const keys = await cli(['keys', 'create', '--principal', 'alice', '--label', '-h']);
    expect(keys.code).toBe(2);
    expect(keys.out).toBe('');
  });

  it('as an option, anywhere before --, it is help; so is a first word "help" that is a subcommand', async () => {
    for (const args of [
      ['verify', 'help', '--key', 'pub.pem', '--help'],
      ['verify', '-h', 'help'],
      ['verify', '--key', 'pub.pem', '--json', '-h'],
      ['keys', 'list', '--json', '--help'],
      ['keys', 'help'],
      ['policy', 'help'],
      ['export', '--out', 'x.jsonl', '-h'],
      ['actions', 'list', '--help'],
      ['mcp-proxy', '--help', '--', 'server'],
    ]) {
      const run = await cli(args);
      expect(run.code, args.join(' ')).toBe(0);
      expect(run.out).toMatch(/^usage:/);
    }
  });
});
