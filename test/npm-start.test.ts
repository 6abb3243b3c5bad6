import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { dispatch } from '../apps/cli/src/dispatch.ts';

// `npm start` as a newcomer runs it: embedded Postgres and Redis, migrations, demo config and
// keys, a first screen whose commands work, and Ctrl-C stopping everything it started. Its
// state goes to a folder of its own so a developer's running instance is not disturbed.
const root = path.resolve(import.meta.dirname, '..');
const home = path.join(root, '.countersign', 'test', `start-${process.pid}-${randomBytes(4).toString('hex')}`);
const stateDir = path.join(home, '.countersign');
let child: ChildProcess | undefined;

afterAll(() => {
  if (child && child.exitCode === null) child.kill('SIGKILL');
  fs.rmSync(home, { recursive: true, force: true });
});

/** What git sees as changed: `npm start` must leave nothing behind (lockfile included). */
function gitChanges(): string[] {
  return execFileSync('git', ['status', '--porcelain'], { cwd: root, encoding: 'utf8' }).split('\n').filter(Boolean).sort();
}

/** The CLI as a second terminal would run it, with only the exported state dir to go on. */
async function cliWithStateDir(args: string[]): Promise<{ status: number; out: string }> {
  const stdout = new PassThrough();
  let out = '';
  stdout.on('data', (c) => (out += c));
  const env = { ...process.env, COUNTERSIGN_STATE_DIR: stateDir, DATABASE_URL: '', COUNTERSIGN_KEYS_DIR: '' };
  const status = await dispatch(args, { stdout, stderr: stdout, env, cwd: root });
  return { status, out };
}

function serversUsing(dir: string): string[] {
  const ps = execFileSync('ps', ['-eo', 'pid,args'], { encoding: 'utf8' });
  return ps.split('\n').filter((l) => l.includes(dir) && !l.includes('ps -eo'));
}

describe('npm start', () => {
  it('prints a first screen whose keys and URL work, and Ctrl-C stops everything', async () => {
    fs.mkdirSync(home, { recursive: true });
    const gitBefore = gitChanges();
    child = spawn(process.execPath, [path.join(root, 'infra/dev/start.mjs')], {
      cwd: root,
      env: { ...process.env, PORT: '0', COUNTERSIGN_STATE_DIR: stateDir, DATABASE_URL: '', REDIS_URL: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((resolve) => child!.once('exit', (code) => resolve(code)));

    const until = Date.now() + 90_000;
    while (!out.includes('Stop: Ctrl-C') && Date.now() < until && child.exitCode === null) await new Promise((r) => setTimeout(r, 200));
    expect(out).toContain('countersign is running');
    const url = /export CS=(\S+)/.exec(out)?.[1];
    const agent = /export AGENT=(\S+)/.exec(out)?.[1];
    const grace = /export GRACE=(\S+)/.exec(out)?.[1];
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    // The first screen names the state folder it really uses, and exports it for the CLI.
    const shown = path.relative(root, stateDir);
    expect(out).toContain(`data in ${shown}/`);
    expect(out).toContain(`kept in ${shown}/demo-keys.json`);
    expect(out).not.toContain('data in .countersign/ ');
    expect(out).toContain(`export COUNTERSIGN_STATE_DIR=${stateDir}`);
    // The CLI finds this instance's database and keys through that variable alone.
    const listed = await cliWithStateDir(['keys', 'list']);
    expect(listed.status, listed.out).toBe(0);
    expect(listed.out).toContain('deploy-bot');
    // The service, and the CLI through runtime.json, connect as the least-privileged login.
    const runtime = JSON.parse(fs.readFileSync(path.join(stateDir, 'runtime.json'), 'utf8')) as { databaseUrl: string };
    expect(new URL(runtime.databaseUrl).username).toBe('countersign_app');
    // So do the examples.
    process.env.COUNTERSIGN_STATE_DIR = stateDir;
    try {
      const demo = await import('../examples/demo-config.ts');
      expect(demo.countersignUrl()).toBe(url);
    } finally {
      delete process.env.COUNTERSIGN_STATE_DIR;
    }

    // The first screen's "approve" command, as a newcomer would paste it.
    const approve = /1\) approve[^\n]*\n\s+curl -s \$CS\/v1\/actions .* -d '([^']+)'/.exec(out)?.[1];
    expect(approve).toBeDefined();
    const res = await fetch(`${url}/v1/actions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${agent}`, 'content-type': 'application/json' },
      body: approve,
    });
    expect(res.status).toBe(201);
    expect(((await res.json()) as { status: string }).status).toBe('approved');
    const exp = await fetch(`${url}/v1/audit/export`, { headers: { authorization: `Bearer ${grace}` } });
    expect(exp.status).toBe(200);
    // Redis retitles its process "redis-server 127.0.0.1:PORT", so it is found by its port.
    const redisPort = /Redis on 127\.0\.0\.1:(\d+)/.exec(out)?.[1];
    expect(redisPort).toBeDefined();
    const ours = () => [...serversUsing(stateDir), ...serversUsing(`redis-server 127.0.0.1:${redisPort}`)];
    expect(serversUsing(stateDir).length).toBeGreaterThanOrEqual(1);
    expect(serversUsing(`redis-server 127.0.0.1:${redisPort}`)).toHaveLength(1);

    child.kill('SIGINT');
    expect(await exited).toBe(0);
    const deadline = Date.now() + 10_000;
    while (ours().length > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    expect(ours()).toEqual([]);
    expect(fs.existsSync(path.join(stateDir, 'runtime.json'))).toBe(false);
    expect(gitChanges()).toEqual(gitBefore);
  }, 150_000);

  it('with its port taken, says so and how to pick another, and stops what it started', async () => {
    const taken = net.createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const port = (taken.address() as net.AddressInfo).port;
    try {
      const busy = spawn(process.execPath, [path.join(root, 'infra/dev/start.mjs')], {
        cwd: root,
        env: { ...process.env, PORT: String(port), COUNTERSIGN_STATE_DIR: stateDir, DATABASE_URL: '', REDIS_URL: '' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      busy.stdout!.on('data', (d: Buffer) => (out += d.toString()));
      busy.stderr!.on('data', (d: Buffer) => (out += d.toString()));
      const code = await new Promise<number | null>((resolve) => busy.once('exit', resolve));
      expect(code, out).toBe(1);
      expect(out).toContain(`port ${port} is already in use`);
      expect(out).toContain('PORT=8081 npm start');
      expect(out, 'no stack').not.toMatch(/\n\s+at /);
      const deadline = Date.now() + 10_000;
      while (serversUsing(stateDir).length > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
      expect(serversUsing(stateDir)).toEqual([]);
    } finally {
      taken.close();
    }
  }, 150_000);
});
