import { spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { userInfo } from 'node:os';
import { delimiter, join } from 'node:path';

// Dependency-free on purpose: infra/dev/test.mjs loads this file before running the tests.

const SBIN_PATHS = ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'];

function findExecutable(name: string): string | undefined {
  const folders = [...(process.env.PATH ?? '').split(delimiter).filter(Boolean), ...SBIN_PATHS];
  for (const folder of folders) {
    const candidate = join(folder, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // Not in this folder: keep looking.
    }
  }
  return undefined;
}

/** The redis-server binary on this machine, if any. */
export function findRedisServer(): string | undefined {
  return findExecutable('redis-server');
}

/**
 * Returns the path of redis-server, installing Debian's package first when it is missing and we
 * are root with apt-get (a fresh CI machine). Anywhere else it fails with the one-line fix.
 */
export function ensureRedisServer(log: (line: string) => void = console.log): string {
  const existing = findRedisServer();
  if (existing !== undefined) return existing;
  const aptGet = findExecutable('apt-get');
  if (userInfo().uid !== 0 || aptGet === undefined) {
    throw new Error(
      'redis-server is not installed: install it (Debian/Ubuntu: sudo apt-get install -y redis-server; macOS: brew install redis) or set REDIS_URL',
    );
  }
  log('devstack: redis-server is missing; installing it with apt-get (one time)');
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  // A parallel run installing at the same moment holds dpkg's lock: wait for it, don't fail.
  const wait = ['-o', 'DPkg::Lock::Timeout=300'];
  for (const args of [[...wait, 'update'], [...wait, 'install', '-y', '--no-install-recommends', 'redis-server']]) {
    // Output goes to stderr so that our stdout stays readable; stdin closed: never interactive.
    const result = spawnSync(aptGet, args, { env, stdio: ['ignore', 2, 2] });
    if (result.error) throw result.error;
    if (result.status !== 0) {
      throw new Error(`apt-get ${args.slice(wait.length).join(' ')} failed with exit code ${result.status ?? result.signal}`);
    }
  }
  const installed = findRedisServer();
  if (installed === undefined) throw new Error('apt-get installed redis-server but it is not on PATH');
  return installed;
}
