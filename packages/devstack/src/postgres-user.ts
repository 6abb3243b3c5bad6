import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { userInfo } from 'node:os';

export interface RunAs {
  uid: number;
  gid: number;
}

function idOf(flag: '-u' | '-g', name: string): number | undefined {
  try {
    return Number.parseInt(execFileSync('id', [flag, name], { encoding: 'utf8' }).trim(), 10);
  } catch {
    return undefined;
  }
}

/**
 * Postgres refuses to run as root. As root (CI, containers) we run it as the `postgres` system
 * user, creating that user when the machine has none. As anyone else, it runs as ourselves.
 */
export function postgresRunAs(): RunAs | undefined {
  if (userInfo().uid !== 0) return undefined;
  let uid = idOf('-u', 'postgres');
  let gid = idOf('-g', 'postgres');
  if (uid === undefined || gid === undefined) {
    try {
      execFileSync(
        'useradd',
        ['--system', '--user-group', '--no-create-home', '--shell', '/usr/sbin/nologin', 'postgres'],
        {
          stdio: ['ignore', 'ignore', 'pipe'],
          // Root's PATH may lack the sbin folders when started from a minimal environment.
          env: { ...process.env, PATH: `${process.env.PATH ?? ''}:/usr/sbin:/sbin` },
        },
      );
    } catch (error) {
      throw new Error(
        `running as root, and could not create the "postgres" user that embedded Postgres needs: ${(error as Error).message}`,
      );
    }
    uid = idOf('-u', 'postgres');
    gid = idOf('-g', 'postgres');
  }
  if (uid === undefined || gid === undefined) {
    throw new Error('the "postgres" user exists but its uid/gid could not be read');
  }
  return { uid, gid };
}

/**
 * The `postgres` user must be able to reach the binaries and the data folder. A checkout under
 * a private home folder (e.g. /root, mode 0700) hides them. In CI (a throwaway machine) we add
 * the traverse bit to the blocking folders; elsewhere we say what to do instead of changing
 * permissions behind the user's back.
 */
export function ensureReachable(paths: string[], runAs: RunAs, log: (line: string) => void): void {
  const folders = [...new Set(paths.flatMap(ancestorsOf))].sort((a, b) => a.length - b.length);
  for (const folder of folders) {
    // Shortest paths first: a folder fails only for itself once its parents pass.
    if (canTraverse(folder, runAs)) continue;
    if (!process.env.CI) {
      throw new Error(
        `the postgres user cannot enter ${folder}; run "chmod o+x ${folder}" or set DATABASE_URL to an existing Postgres`,
      );
    }
    log(`devstack: adding o+x to ${folder} so the postgres user can reach its files`);
    chmodSync(folder, statSync(folder).mode | 0o001);
  }
}

function ancestorsOf(target: string): string[] {
  const folders: string[] = [];
  let current = dirname(resolve(target));
  for (;;) {
    folders.push(current);
    const parent = dirname(current);
    if (parent === current) break;
    current = parent;
  }
  return folders;
}

function canTraverse(folder: string, runAs: RunAs): boolean {
  const result = spawnSync('test', ['-x', folder], { uid: runAs.uid, gid: runAs.gid, stdio: 'ignore' });
  return result.status === 0;
}
