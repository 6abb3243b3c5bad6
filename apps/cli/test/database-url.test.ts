import { spawnSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

// A DATABASE_URL the driver cannot use stops the CLI naming the variable, never echoing it (it
// holds a password), with exit 1 and no stack trace. Before, "notaurl" gave "getaddrinfo
// ENOTFOUND base" (the driver read it as a socket path) and a bad port a bare "Invalid URL".

const ROOT = resolve(import.meta.dirname, '..', '..', '..');
const BIN = resolve(ROOT, 'apps', 'cli', 'bin', 'countersign.mjs');
const KEY = generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();

describe('countersign with a malformed DATABASE_URL', () => {
  for (const url of ['notaurl-SECRETPW', 'mysql://u:SECRETPW@db/countersign', 'postgres://u:SECRETPW@db:port/countersign']) {
    it(`refuses ${url.replace('SECRETPW', '…')} naming DATABASE_URL`, () => {
      const run = spawnSync(process.execPath, [BIN, 'keys', 'list'], {
        cwd: ROOT,
        env: { PATH: process.env.PATH ?? '', DATABASE_URL: url, COUNTERSIGN_SIGNING_KEY: KEY },
        encoding: 'utf8',
        timeout: 60_000,
      });
      expect(run.status, run.stderr).toBe(1);
      expect(run.stderr).toBe('countersign: DATABASE_URL must be a postgres:// URL (special characters in the password percent-encoded)\n');
      expect(run.stdout).toBe('');
    }, 60_000);
  }
});
