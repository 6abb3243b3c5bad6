import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { createDatabase, databaseUrl, startPostgres, startRedis } from '@countersign/devstack';
import { applyMigrations } from '@countersign/db/migrate';
import { measureAutoDecide } from './auto-decide.ts';
import { describeCpu } from './cpu.ts';

// Row 2 of the benchmark alone (the auto-decide path), for iterating on it without the other
// rows. `BENCH_CPU_PROF=1` profiles the gate-server child. Not part of `npm run bench`.
const root = path.resolve(import.meta.dirname, '..', '..');
const work = path.join(root, '.countersign', 'bench', `auto-${process.pid}`);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 32);
const DURATION_MS = Number(process.env.BENCH_SECONDS ?? 10) * 1000;
const tsx = path.join(root, 'node_modules', '.bin', 'tsx');

function startGate(env: Record<string, string>): Promise<{ child: ChildProcess; fields: string[] }> {
  return new Promise((resolve, reject) => {
    const script = path.join(import.meta.dirname, 'gate-server.ts');
    const [cmd, args] = process.env.BENCH_CPU_PROF
      ? [process.execPath, ['--cpu-prof', '--cpu-prof-dir', work, '--import', 'tsx', script]]
      : [tsx, [script]];
    const child = spawn(cmd, args, {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let buf = '';
    child.stdout!.on('data', (d: Buffer) => {
      buf += d.toString();
      const line = buf.split('\n').find((l) => l.startsWith('READY '));
      if (line) resolve({ child, fields: line.split(' ').slice(1) });
    });
    child.on('exit', (code) => reject(new Error(`gate-server exited with ${code}`)));
  });
}

fs.mkdirSync(work, { recursive: true });
const pg = await startPostgres({ dataDir: path.join(work, 'pg') });
const redis = await startRedis({ dir: path.join(work, 'redis') });
try {
  await createDatabase(pg.url, 'bench_gate');
  const gateDb = databaseUrl(pg.url, 'bench_gate');
  await applyMigrations(gateDb);
  const gate = await startGate({ DATABASE_URL: gateDb, REDIS_URL: redis.url, COUNTERSIGN_KEYS_DIR: path.join(work, 'keys') });
  const [port, token] = gate.fields;
  const { result: r, cpu: used } = await measureAutoDecide({
    port: port!,
    token: token!,
    serverPid: gate.child.pid!,
    postgresPid: pg.pid,
    databaseUrl: gateDb,
    concurrency: CONCURRENCY,
    durationMs: DURATION_MS,
  });
  await new Promise<void>((resolve) => {
    gate.child.removeAllListeners('exit');
    gate.child.once('exit', () => resolve());
    gate.child.kill('SIGTERM');
  });
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
