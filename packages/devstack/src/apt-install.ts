import { spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { userInfo } from 'node:os';
import { delimiter, join } from 'node:path';

// Dependency-free on purpose: infra/dev/test.mjs loads redis-install.ts (and so this file)
// before anything else is installed.

const SBIN_PATHS = ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'];

/** The path of an executable on PATH (or in the usual sbin folders), if any. */
export function findExecutable(name: string): string | undefined {
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

export interface AptExecutable {
  /** The command that must exist, e.g. "redis-server". */
  executable: string;
  /** Debian packages that provide it, in order of preference; the first one apt knows is installed. */
  packages: readonly string[];
  /** The one-line fix shown when we cannot install it ourselves (not root, no apt-get). */
  manualFix: string;
  log?: (line: string) => void;
}

/**
 * Returns the path of `executable`, installing it with apt-get first when it is missing and we
 * are root with apt-get (a fresh CI machine). Anywhere else it fails with the one-line fix.
 */
export function ensureAptExecutable(want: AptExecutable): string {
  const existing = findExecutable(want.executable);
  if (existing !== undefined) return existing;
  const aptGet = findExecutable('apt-get');
  if (userInfo().uid !== 0 || aptGet === undefined) {
    throw new Error(`${want.executable} is not installed: ${want.manualFix}`);
  }
  const log = want.log ?? console.log;
  log(`devstack: ${want.executable} is missing; installing it with apt-get (one time)`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  // A parallel run installing at the same moment holds dpkg's lock: wait for it, don't fail.
  const wait = ['-o', 'DPkg::Lock::Timeout=300'];
  const apt = (args: string[], stdio: 'ignore' | 2) => {
    // Output goes to stderr so that our stdout stays readable; stdin closed: never interactive.
    const result = spawnSync(aptGet, [...wait, ...args], { env, stdio: ['ignore', stdio, stdio] });
    if (result.error) throw result.error;
    return result.status;
  };
  if (apt(['update'], 2) !== 0) throw new Error('apt-get update failed');
  // Package names differ between sources (Debian ships kubectl as kubernetes-client): take the
  // first name apt can resolve. `apt-get install -s` only simulates.
  const chosen = want.packages.find((name) => apt(['install', '-s', '-y', '--no-install-recommends', name], 'ignore') === 0);
  if (chosen === undefined) throw new Error(`apt-get knows none of ${want.packages.join(', ')}: ${want.manualFix}`);
  const status = apt(['install', '-y', '--no-install-recommends', chosen], 2);
  if (status !== 0) throw new Error(`apt-get install ${chosen} failed with exit code ${status}`);
  const installed = findExecutable(want.executable);
  if (installed === undefined) throw new Error(`apt-get installed ${chosen} but ${want.executable} is not on PATH`);
  return installed;
}
