import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

// Under .countersign/test, named <kind>-<pid>-<hex>, so that a killed run's leftovers are
// cleaned by the next run's global setup (removeAbandonedScratch).
const TEST_STATE = resolve(fileURLToPath(new URL('.', import.meta.url)), '..', '..', '..', '.countersign', 'test');

const created: string[] = [];

export function scratchDir(): string {
  const dir = join(TEST_STATE, `devstack-${process.pid}-${randomBytes(4).toString('hex')}`);
  created.push(dir);
  return dir;
}

export async function removeScratchDirs(): Promise<void> {
  await Promise.all(created.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
}
