import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startPostgres, startRedis } from '@countersign/devstack';
import { Report } from './report.ts';

// Running one bench file on its own (`npx tsx test/bench/<file>.ts`): its own Postgres and
// Redis, its rows printed as in the full table, its raw result saved as JSON.

const root = path.resolve(import.meta.dirname, '..', '..');

export interface Devstack {
  postgresUrl: string;
  postgresPid: number;
  redisUrl: string;
  redisPid: number;
  workDir: string;
}

/** True when `moduleUrl` is the script node was started with. */
export function isMain(moduleUrl: string): boolean {
  return !!process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(moduleUrl);
}

export async function runStandalone<T>(name: string, measure: (stack: Devstack) => Promise<T>, report: (r: Report, result: T) => void): Promise<void> {
  const work = path.join(root, '.countersign', 'bench', `${name}-${process.pid}`);
  fs.mkdirSync(work, { recursive: true });
  process.stdout.write(`${name} bench: starting Postgres and Redis…\n`);
  // Durable, as in `npm run bench` (main.ts): commits cost what they cost there.
  const pg = await startPostgres({ dataDir: path.join(work, 'pg') });
  const redis = await startRedis({ dir: path.join(work, 'redis') });
  try {
    const result = await measure({ postgresUrl: pg.url, postgresPid: pg.pid, redisUrl: redis.url, redisPid: redis.pid, workDir: work });
    const r = new Report();
    report(r, result);
    process.stdout.write(['', ...r.lines, ''].join('\n') + '\n');
    fs.writeFileSync(path.join(root, '.countersign', 'bench', `${name}-results.json`), JSON.stringify({ at: new Date().toISOString(), ...result }, null, 2));
  } catch (err) {
    process.stderr.write(`${name} bench failed: ${(err as Error).stack ?? String(err)}\n`);
    process.exitCode = 1;
  } finally {
    await redis.stop();
    await pg.stop();
    fs.rmSync(work, { recursive: true, force: true });
  }
}
