import fs from 'node:fs';
import path from 'node:path';
import { createDatabase, databaseUrl, startPostgres, startRedis } from '@countersign/devstack';
import { applyMigrations } from '@countersign/db/migrate';
import { measureAutoDecide } from './auto-decide.ts';
import { startChild, stopChild } from './children.ts';
import { describeCpu } from './cpu.ts';
import { startGateCluster } from './gate-cluster.ts';
import type { ServiceRole } from './slack-stack.ts';

// Row 2 of the benchmark alone (the auto-decide path), for iterating on it without the other
// rows. `BENCH_CPU_PROF=1` profiles the gate-server child; `BENCH_ROLES=api,api,worker,worker`
// runs the scale-out row's processes instead. Not part of `npm run bench`.
const root = path.resolve(import.meta.dirname, '..', '..');
const work = path.join(root, '.countersign', 'bench', `auto-${process.pid}`);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 32);
const DURATION_MS = Number(process.env.BENCH_SECONDS ?? 10) * 1000;
fs.mkdirSync(work, { recursive: true });
const pg = await startPostgres({ dataDir: path.join(work, 'pg') });
const redis = await startRedis({ dir: path.join(work, 'redis') });
try {
  await createDatabase(pg.url, 'bench_gate');
  const gateDb = databaseUrl(pg.url, 'bench_gate');
  await applyMigrations(gateDb);
  const roles = process.env.BENCH_ROLES?.split(',') as ServiceRole[] | undefined;
  const gate = roles
    ? undefined
    : await startChild(
        'gate-server.ts',
        { DATABASE_URL: gateDb, REDIS_URL: redis.url, COUNTERSIGN_KEYS_DIR: path.join(work, 'keys') },
        process.env.BENCH_CPU_PROF ? ['--cpu-prof', '--cpu-prof-dir', work] : [],
      );
  const cluster = roles ? await startGateCluster({ databaseUrl: gateDb, redisUrl: redis.url, keysDir: path.join(work, 'keys'), roles }) : undefined;
  const { result: r, cpu: used } = await measureAutoDecide({
    ports: cluster ? cluster.apiPorts : [gate!.fields[0]!],
    token: cluster ? cluster.token : gate!.fields[1]!,
    servers: cluster ? Object.fromEntries(cluster.processes.map((p) => [p.name, p.pid])) : { server: gate!.child.pid! },
    postgresPid: pg.pid,
    databaseUrl: gateDb,
    concurrency: CONCURRENCY,
    durationMs: DURATION_MS,
  });
  if (gate) await stopChild(gate.child);
  await cluster?.stop();
  process.stdout.write(
    `auto-decide ${r.throughput.toFixed(0)}/s p50 ${r.p50Ms.toFixed(2)} ms p99 ${r.p99Ms.toFixed(2)} ms (${r.requests} requests, ${r.errors} errors) ${JSON.stringify(r.statuses)}\n`,
  );
  process.stdout.write(describeCpu(used, r) + '\n');
  for (const f of fs.readdirSync(work).filter((f) => f.endsWith('.cpuprofile'))) {
    fs.copyFileSync(path.join(work, f), path.join('/tmp', f));
    process.stdout.write(`profile: /tmp/${f}\n`);
  }
} finally {
  await redis.stop();
  await pg.stop();
  fs.rmSync(work, { recursive: true, force: true });
}
