import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { dispatch } from '../src/dispatch.ts';
import { commandNames } from '../src/registry.ts';

// Every subcommand answers --help (and -h) with its options on stdout and exit 0; a command
// added later is covered without editing this. One run goes through the real entry point.

async function cli(args: string[]): Promise<{ status: number; stdout: string; stderr: string }> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (c) => (out += c));
  stderr.on('data', (c) => (err += c));
  const status = await dispatch(args, { stdout, stderr, env: { ...process.env, DATABASE_URL: '' }, cwd: process.cwd() });
  return { status, stdout: out, stderr: err };
}

describe('countersign <command> --help', () => {
  for (const name of commandNames()) {
    it(`${name} --help and -h print its usage and exit 0`, async () => {
      for (const flag of ['--help', '-h']) {
        const out = await cli([name, flag]);
        expect(out.status, `${name} ${flag}: ${out.stderr}`).toBe(0);
        expect(out.stdout).toMatch(/usage:/);
        expect(out.stdout).toContain(name);
      }
    });
  }

  it('countersign --help lists every command, through the real entry point', () => {
    const bin = resolve(import.meta.dirname, '..', 'bin', 'countersign.mjs');
    const out = spawnSync(process.execPath, [bin, 'keys', '--help'], { encoding: 'utf8', timeout: 60_000 });
    expect(out.status, out.stderr).toBe(0);
    expect(out.stdout).toMatch(/usage:[\s\S]*keys create/);
  });

  it('with no command: usage on stderr, exit 2', async () => {
    const out = await cli([]);
    expect(out.status).toBe(2);
    for (const name of commandNames()) expect(out.stderr).toContain(name);
  });
});
