import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { isAlive, reclaimFromDeadOwner } from './process-owner.ts';

/**
 * Throwaway servers (test runs, migration shadows) live in folders named `<kind>-<pid>-<rand>`
 * under a scratch folder, with their owner files beside or inside. A run that was SIGKILLed
 * leaves its folder, and possibly a running server, behind. This removes every such folder
 * whose creating process is gone, stopping its orphaned server first. Folders of live
 * processes (a parallel test run) are left alone.
 */
export async function removeAbandonedScratch(folder: string): Promise<string[]> {
  let names: string[];
  try {
    names = readdirSync(folder);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  const removed: string[] = [];
  // Files beside a Postgres folder may outlive it (a crash between removals).
  const bases = new Set(names.map((name) => name.replace(/\.(owner\.json|init\.lock)$/, '')));
  for (const name of bases) {
    const match = /^[a-z]+-(\d+)-[0-9a-f]+$/.exec(name);
    if (match === null) continue;
    const pid = Number(match[1]);
    if (pid === process.pid || isAlive(pid)) continue;
    const path = join(folder, name);
    // Owner files: beside a Postgres data folder, inside a Redis folder.
    await reclaimFromDeadOwner(`${path}.owner.json`, 'Postgres', 'SIGINT');
    await reclaimFromDeadOwner(join(path, 'redis.owner.json'), 'Redis', 'SIGTERM');
    rmSync(path, { recursive: true, force: true });
    rmSync(`${path}.owner.json`, { force: true });
    rmSync(`${path}.init.lock`, { force: true });
    removed.push(name);
  }
  return removed;
}
