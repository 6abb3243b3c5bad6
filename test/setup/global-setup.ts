// Started once per `vitest run`: one throwaway embedded Postgres and one Redis, both on
// 127.0.0.1 and free ports. Nothing is migrated here; test files get isolated databases from
// test/support/database.ts. Teardown stops both servers and removes their folders.
import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestProject } from 'vitest/node';
import {
  ensureRedisServer,
  removeAbandonedScratch,
  startPostgres,
  startRedis,
} from '../../packages/devstack/src/index.ts';
import '../support/provided-context.ts';

const TEST_STATE = resolve(fileURLToPath(new URL('.', import.meta.url)), '..', '..', '.countersign', 'test');

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  ensureRedisServer();
  // Folders (and servers) left by test runs that were killed before their teardown.
  await removeAbandonedScratch(TEST_STATE);

  const suffix = `${process.pid}-${randomBytes(4).toString('hex')}`;
  const postgresDir = join(TEST_STATE, `pg-${suffix}`);
  const redisDir = join(TEST_STATE, `redis-${suffix}`);
  const postgres = await startPostgres({ dataDir: postgresDir, ephemeral: true });
  let redis;
  try {
    redis = await startRedis({ dir: redisDir, persist: false });
  } catch (error) {
    await postgres.stop();
    await rm(postgresDir, { recursive: true, force: true });
    throw error;
  }

  project.provide('databaseAdminUrl', postgres.url);
  project.provide('redisUrl', redis.url);

  const running = redis;
  return async () => {
    const results = await Promise.allSettled([running.stop(), postgres.stop()]);
    await rm(postgresDir, { recursive: true, force: true });
    await rm(redisDir, { recursive: true, force: true });
    const failed = results.find((result) => result.status === 'rejected');
    if (failed) throw failed.reason;
  };
}
