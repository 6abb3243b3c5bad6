import { spawnSync } from 'node:child_process';
import { createServer } from 'node:net';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

// `countersign actions` with a URL it cannot use: a clear reason, exit 2 for a bad URL and 1
// for an unreachable one, and never the URL's password on the terminal (fetch's own error
// quoted "http://user:secret@host/…" whole, and an unreachable host was only "fetch failed").

const ROOT = path.resolve(import.meta.dirname, '..', '..', '..');
const BIN = path.join(ROOT, 'apps', 'cli', 'bin', 'countersign.mjs');

function cli(args: string[], env: Record<string, string> = {}) {
  const run = spawnSync(process.execPath, [BIN, 'actions', ...args], { cwd: ROOT, env: { PATH: process.env.PATH ?? '', COUNTERSIGN_STATE_DIR: '/nonexistent', ...env }, encoding: 'utf8', timeout: 60_000 });
  return { status: run.status, stderr: run.stderr, stdout: run.stdout };
}

/** A port nothing listens on: bound, then closed. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('countersign actions: the service URL', () => {
  it('refuses a URL holding a password, without printing it, from --url or $CS', () => {
    for (const run of [cli(['list', '--url', 'http://ops:SECRETPW@127.0.0.1:1', '--token', 'cs_x']), cli(['list', '--token', 'cs_x'], { CS: 'https://ops:SECRETPW@countersign.example.com' })]) {
      expect(run.status).toBe(2);
      expect(run.stderr).toMatch(/^the countersign URL \(--url, \$CS or \$COUNTERSIGN_URL\) must not hold a user or password/);
      expect(run.stderr).not.toContain('SECRETPW');
    }
  }, 60_000);

  it('refuses what is not an http(s) URL, naming where it came from', () => {
    for (const url of ['notaurl', 'ftp://countersign.example.com', 'file:///etc/passwd']) {
      const run = cli(['show', 'act_1', '--url', url, '--token', 'cs_x']);
      expect(run.status, url).toBe(2);
      expect(run.stderr, url).toMatch(/^the countersign URL \(--url, \$CS or \$COUNTERSIGN_URL\) must be an http:\/\/ or https:\/\/ URL\n/);
    }
  }, 60_000);

  it('says why an unreachable service cannot be reached, exit 1, no stack trace', async () => {
    const port = await closedPort();
    const run = cli(['list', '--url', `http://127.0.0.1:${port}/`, '--token', 'cs_x']);
    expect(run.status).toBe(1);
    expect(run.stderr).toBe(`countersign: cannot reach http://127.0.0.1:${port}: ECONNREFUSED\n`);
  }, 60_000);
});
