import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { createDatabase, databaseUrl, startPostgres, startRedis } from '@countersign/devstack';
import { applyMigrations } from '@countersign/db/migrate';
import { benchPolicy } from '../../packages/policy/bench/evaluate.bench.ts';
import { benchVerify } from '../../packages/evidence/bench/verify.bench.ts';
import { formatSlackBench, runSlackBench } from './slack-escalations.ts';
import { cpuSampler, describeCpu } from './cpu.ts';
import { measureAutoDecide, AUTO_INTENT } from './auto-decide.ts';
import { runLoad, type LoadResult } from './loadgen.ts';
import { formatMcpProxyBench, measureMcpProxyOverhead, type McpProxyBenchResult } from './mcp-proxy.ts';

// `npm run bench`: measures on this machine and prints one table.
//  1. policy evaluation alone, 50-rule policy, p50/p99
//  2. the auto-decide path over HTTP (auth, policy, durable commit + sealed artifact)
//  3. a bare Fastify route doing one INSERT per request, the floor to compare with
//  4. `verify` speed over 100,000 artifacts
//  5. 1,000 escalations through the fake Slack API: submit → card posted, click → release
const root = path.resolve(import.meta.dirname, '..', '..');
const work = path.join(root, '.countersign', 'bench', `run-${process.pid}`);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 32);
const DURATION_MS = Number(process.env.BENCH_SECONDS ?? 10) * 1000;
const tsx = path.join(root, 'node_modules', '.bin', 'tsx');

function startChild(script: string, env: Record<string, string>): Promise<{ child: ChildProcess; fields: string[] }> {
  return new Promise((resolve, reject) => {
    const child = spawn(tsx, [path.join(import.meta.dirname, script)], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
    let buf = '';
    child.stdout!.on('data', (d: Buffer) => {
      buf += d.toString();
      const line = buf.split('\n').find((l) => l.startsWith('READY '));
      if (line) resolve({ child, fields: line.split(' ').slice(1) });
    });
    child.on('exit', (code) => reject(new Error(`${script} exited with ${code}`)));
  });
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  child.removeAllListeners('exit');
  await new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

const row = (name: string, r: LoadResult) =>
  `${name.padEnd(34)} ${r.throughput.toFixed(0).padStart(8)}/s   p50 ${r.p50Ms.toFixed(2).padStart(7)} ms   p99 ${r.p99Ms.toFixed(2).padStart(7)} ms   (${r.requests} requests, ${r.errors} errors)`;

async function main(): Promise<void> {
  fs.mkdirSync(work, { recursive: true });
  process.stdout.write('bench: starting Postgres and Redis…\n');
  const pg = await startPostgres({ dataDir: path.join(work, 'pg') });
  const redis = await startRedis({ dir: path.join(work, 'redis') });
  const children: ChildProcess[] = [];
  try {
    await createDatabase(pg.url, 'bench_gate');
    await createDatabase(pg.url, 'bench_floor');
    const gateDb = databaseUrl(pg.url, 'bench_gate');
    await applyMigrations(gateDb);

    process.stdout.write('bench: 1/5 policy evaluation…\n');
    const policy = benchPolicy(20_000);

    process.stdout.write(`bench: 2/5 auto-decide path over HTTP (${CONCURRENCY} clients, ${DURATION_MS / 1000} s)…\n`);
    const gate = await startChild('gate-server.ts', {
      DATABASE_URL: gateDb,
      REDIS_URL: redis.url,
      COUNTERSIGN_KEYS_DIR: path.join(work, 'keys'),
    });
    children.push(gate.child);
    const [gatePort, token] = gate.fields;
    const { result: auto, cpu: autoUsed } = await measureAutoDecide({
      port: gatePort!,
      token: token!,
      serverPid: gate.child.pid!,
      postgresPid: pg.pid,
      databaseUrl: gateDb,
      concurrency: CONCURRENCY,
      durationMs: DURATION_MS,
    });
    // The MCP proxy's added latency per auto-approved call, against a direct call to the same
    // MCP server in the same run, through this gate.
    let mcp: McpProxyBenchResult | string;
    try {
      mcp = await measureMcpProxyOverhead({ countersignUrl: `http://127.0.0.1:${gatePort}`, apiKey: token! });
    } catch (err) {
      mcp = `MCP proxy: not measured (${(err as Error).message})`;
    }
    await stopChild(gate.child);

    process.stdout.write('bench: 3/5 bare Fastify + one INSERT (the floor)…\n');
    const floorServer = await startChild('bare-server.ts', { DATABASE_URL: databaseUrl(pg.url, 'bench_floor') });
    children.push(floorServer.child);
    const floorCpu = cpuSampler({ server: floorServer.child.pid!, postgres: pg.pid }, databaseUrl(pg.url, 'bench_floor'));
    const floor = await runLoad({
      url: `http://127.0.0.1:${floorServer.fields[0]}/floor`,
      body: () => AUTO_INTENT,
      concurrency: CONCURRENCY,
      durationMs: DURATION_MS,
      warmupMs: 2_000,
      okStatus: 201,
      onMeasureStart: () => void floorCpu.start(),
    });
    const floorUsed = await floorCpu.stop();
    await stopChild(floorServer.child);

    process.stdout.write('bench: 4/5 verify over 100,000 artifacts…\n');
    const verify = await benchVerify(100_000);

    process.stdout.write('bench: 5/5 1,000 escalations through the fake Slack API…\n');
    const slack = await runSlackBench({ postgresUrl: pg.url, redisUrl: redis.url, workDir: path.join(work, 'slack') });

    const lines = [
      '',
      'countersign benchmark (2-core machine; load generator shares the machine)',
      '-'.repeat(100),
      `policy evaluate, ${policy.rules} rules               p50 ${policy.p50Micros.toFixed(1)} µs   p99 ${policy.p99Micros.toFixed(1)} µs   (target p99 < 1000 µs)`,
      row('auto-decide POST /v1/actions', auto) + '   (target ≥ 1000/s, p99 < 25 ms)',
      describeCpu(autoUsed, auto),
      row('floor: bare Fastify + 1 INSERT', floor),
      describeCpu(floorUsed, floor),
      `gate / floor throughput ratio       ${(auto.throughput / floor.throughput).toFixed(2)}   (p99 ratio ${(auto.p99Ms / floor.p99Ms).toFixed(2)})`,
      `verify                              ${verify.recordsPerSecond.toFixed(0)} records/s over ${verify.records} records (${verify.seconds.toFixed(2)} s)   (target ≥ 20000/s)`,
      ...formatSlackBench(slack),
      typeof mcp === 'string' ? mcp : formatMcpProxyBench(mcp),
      '',
    ];
    process.stdout.write(lines.join('\n') + '\n');
    const results = { at: new Date().toISOString(), concurrency: CONCURRENCY, durationMs: DURATION_MS, policy, auto, autoCpu: autoUsed, floor, floorCpu: floorUsed, verify, slack, mcp };
    fs.writeFileSync(path.join(root, '.countersign', 'bench', 'results.json'), JSON.stringify(results, null, 2));
  } finally {
    for (const c of children) await stopChild(c);
    await redis.stop();
    await pg.stop();
    fs.rmSync(work, { recursive: true, force: true });
  }
}

main().catch((err: Error) => {
  process.stderr.write(`bench failed: ${err.stack ?? err.message}\n`);
  process.exit(1);
});
