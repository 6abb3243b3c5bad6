import { ensureAptExecutable, findExecutable } from './apt-install.ts';

// Dependency-free on purpose: infra/dev/test.mjs loads this file before running the tests.

/** The redis-server binary on this machine, if any. */
export function findRedisServer(): string | undefined {
  return findExecutable('redis-server');
}

/**
 * Returns the path of redis-server, installing Debian's package first when it is missing and we
 * are root with apt-get (a fresh CI machine). Anywhere else it fails with the one-line fix.
 */
export function ensureRedisServer(log: (line: string) => void = console.log): string {
  return ensureAptExecutable({
    executable: 'redis-server',
    packages: ['redis-server'],
    manualFix: 'install it (Debian/Ubuntu: sudo apt-get install -y redis-server; macOS: brew install redis) or set REDIS_URL',
    log,
  });
}
