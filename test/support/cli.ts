import path from 'node:path';
import { PassThrough } from 'node:stream';
import type { TestService } from './service.ts';

/**
 * A CLI context pointed at a test service's database, keys and config, capturing what the
 * command prints.
 */
export function cliFor(t: TestService, env: Record<string, string> = {}) {
  const out = new PassThrough();
  const err = new PassThrough();
  let stdout = '';
  let stderr = '';
  out.on('data', (d) => (stdout += d));
  err.on('data', (d) => (stderr += d));
  const ctx = {
    stdout: out,
    stderr: err,
    env: {
      ...process.env,
      DATABASE_URL: t.databaseUrl,
      COUNTERSIGN_KEYS_DIR: path.join(t.configDir, 'keys'),
      COUNTERSIGN_POLICY: path.join(t.configDir, 'policy.yaml'),
      COUNTERSIGN_DIRECTORY: path.join(t.configDir, 'directory.yaml'),
      ...env,
    },
    cwd: t.configDir,
  };
  return { ctx, out: () => stdout, err: () => stderr };
}
