import { spawn, type ChildProcess } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { createDatabase, databaseUrl, freePort, startPostgres, startRedis } from '@countersign/devstack';
import { applyMigrations } from '@countersign/db/migrate';
import { startService } from '@countersign/server';
import { parseSettings } from '../../apps/server/src/settings.ts';
import { FakeSlack, type SlackCall } from '../fakes/slack-api.ts';

// How long a card takes to appear when the worker posting it is killed mid-post while a second,
// healthy worker runs. Each run: an escalation whose card goes to one Slack channel; the fake
// Slack holds the first chat.postMessage to that channel without taking it, and the worker that
// sent it is killed (SIGKILL) as the call arrives; the figure is the time from the kill to the
// card's chat.postMessage that Slack takes (from the surviving worker). The killed worker is
// replaced before the next run, so every run has two workers.
//
// The workers are real processes (apps/server/src/main.ts --role worker), each with its own
// Slack bot token, so the fake tells who made each call. test/card-reconcile.test.ts uses the
// same cluster (WorkerCluster) for its correctness assertions.
//
// Standalone: npx tsx test/bench/worker-recovery.ts   (BENCH_RECOVERY_RUNS, default 3)
// From another bench: measureWorkerRecovery({ postgresUrl, redisUrl, workDir, runs }) and
// formatWorkerRecovery(result) for the table.

const ROOT = path.resolve(import.meta.dirname, '..', '..');
const FIXTURES = path.join(ROOT, 'test', 'fixtures');
const TEAM = 'T0TEAM0001';

/** The one channel recovery escalations ask in. */
export const RECOVERY_CHANNEL = 'C0RECOVER1';
export const RECOVERY_RULE = `
  - id: worker-recovery
    when: 'action.type == "recovery.card"'
    outcome: escalate
    reason: one Slack channel, for worker-kill tests
    requirement:
      approvers: [{ role: sre-lead, count: 1 }]
      expiresIn: 30m
      channels:
        slack: ['${RECOVERY_CHANNEL}']
`;

export function recoveryIntent(n: number | string): Record<string, unknown> {
  return { action: { type: 'recovery.card', resource: `svc/${n}`, summary: `Recovery ${n}` } };
}

/** The policy and directory the cluster's processes read: the test fixtures plus RECOVERY_RULE. */
export function recoveryConfig(dir: string): { policy: string; directory: string; policyText: string } {
  const policyText = fs.readFileSync(path.join(FIXTURES, 'policy.yaml'), 'utf8').trimEnd() + '\n' + RECOVERY_RULE;
  const policy = path.join(dir, 'policy.yaml');
  const directory = path.join(dir, 'directory.yaml');
  fs.writeFileSync(policy, policyText);
  fs.writeFileSync(directory, fs.readFileSync(path.join(FIXTURES, 'directory.yaml'), 'utf8'));
  return { policy, directory, policyText };
}

/** Bot tokens the cluster hands its workers; a FakeSlack must accept them (extraTokens). */
export const WORKER_TOKENS = Array.from({ length: 8 }, (_, i) => `xoxb-worker-${i}`);

export function recoverySlack(): Promise<FakeSlack> {
  return FakeSlack.start({
    teamId: TEAM,
    extraTokens: WORKER_TOKENS,
    channels: [{ id: RECOVERY_CHANNEL, name: 'recovery' }],
    users: [
      { id: 'U0ALICE01', team_id: TEAM, email: 'alice@example.com', is_email_confirmed: true },
      { id: 'U0ERIN001', team_id: TEAM, email: 'erin@example.com', is_email_confirmed: true },
    ],
  });
}

export function newSigningKey(): string {
  return generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
}

export interface WorkerProcess {
  token: string;
  url: string;
  proc: ChildProcess;
  /** The last lines it wrote (for failure messages). */
  output: string[];
}

export interface ClusterOptions {
  databaseUrl: string;
  redisUrl: string;
  prefix: string;
  slack: FakeSlack;
  signingKey: string;
  policy: string;
  directory: string;
  keysDir: string;
  env?: Record<string, string>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitUntil<T>(what: string, check: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs: number, everyMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}

/** Worker-role processes on one database, Redis prefix and fake Slack; each with its own bot token. */
export class WorkerCluster {
  readonly workers: WorkerProcess[] = [];
  private nextToken = 0;

  constructor(private readonly opts: ClusterOptions) {}

  /** Starts one more worker process and waits until it answers /readyz. */
  async start(): Promise<WorkerProcess> {
    const token = WORKER_TOKENS[this.nextToken++];
    if (!token) throw new Error('out of worker tokens');
    const port = await freePort();
    const env: Record<string, string> = {
      DATABASE_URL: this.opts.databaseUrl,
      REDIS_URL: this.opts.redisUrl,
      COUNTERSIGN_SKIP_MIGRATIONS: '1',
      COUNTERSIGN_SIGNING_KEY: this.opts.signingKey,
      COUNTERSIGN_POLICY: this.opts.policy,
      COUNTERSIGN_DIRECTORY: this.opts.directory,
      COUNTERSIGN_KEYS_DIR: this.opts.keysDir,
      COUNTERSIGN_WEBHOOK_SECRET: 'worker-recovery-webhook-master-secret',
      COUNTERSIGN_QUEUE_PREFIX: this.opts.prefix,
      COUNTERSIGN_WORKER_CONCURRENCY: '4',
      COUNTERSIGN_CHANNEL_PACING_MS: 'slack=0',
      COUNTERSIGN_SWEEP_SECONDS: '5',
      SLACK_BOT_TOKEN: token,
      SLACK_SIGNING_SECRET: 'worker-recovery-signing-secret',
      SLACK_TEAM_ID: this.opts.slack.teamId,
      SLACK_API_URL: this.opts.slack.url,
      LOG_LEVEL: 'warn',
      ...this.opts.env,
      PORT: String(port),
      HOST: '127.0.0.1',
    };
    // One node process per worker (tsx as a loader), so a signal to its pid reaches all of it.
    const proc = spawn(process.execPath, ['--import', 'tsx', 'apps/server/src/main.ts', '--role', 'worker'], {
      cwd: ROOT,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const worker: WorkerProcess = { token, url: `http://127.0.0.1:${port}`, proc, output: [] };
    const keep = (chunk: Buffer) => {
      worker.output.push(chunk.toString('utf8'));
      if (worker.output.length > 200) worker.output.shift();
    };
    proc.stdout!.on('data', keep);
    proc.stderr!.on('data', keep);
    this.workers.push(worker);
    await waitUntil(
      `worker ${token} to answer /readyz`,
      async () => {
        if (proc.exitCode !== null) throw new Error(`worker exited ${proc.exitCode}: ${worker.output.join('').slice(-2000)}`);
        return (await fetch(`${worker.url}/readyz`).catch(() => undefined))?.status === 200;
      },
      120_000,
      200,
    );
    return worker;
  }

  /** The running worker that holds this bot token. */
  byToken(token: string): WorkerProcess | undefined {
    return this.workers.find((w) => w.token === token && alive(w));
  }

  alive(): WorkerProcess[] {
    return this.workers.filter(alive);
  }

  /**
   * Arms a kill: the next chat.postMessage matching `match` hangs (never answered), and the
   * worker that sent it is killed with SIGKILL as it arrives. `accepted`: Slack takes the post
   * first (the message is there, its answer never comes); otherwise Slack never takes it.
   * Resolves with the killed worker and when the kill was sent.
   */
  killOnPost(match: (args: Record<string, unknown>) => boolean, opts: { accepted: boolean }): Promise<{ worker: WorkerProcess; killedAt: number; call: Pick<SlackCall, 'args' | 'at'> }> {
    const never = new Promise<never>(() => undefined);
    this.opts.slack.script('chat.postMessage', { match, until: never, ...(opts.accepted ? { accept: true } : {}) });
    let armed = true;
    return new Promise((resolve, reject) => {
      this.opts.slack.onArrive((call) => {
        if (!armed || call.method !== 'chat.postMessage' || !match(call.args)) return;
        armed = false;
        const worker = this.byToken(call.token);
        if (!worker) return reject(new Error(`no running worker holds the token that posted (${call.token})`));
        worker.proc.kill('SIGKILL');
        resolve({ worker, killedAt: Date.now(), call });
      });
    });
  }

  /** Stops every worker still running (SIGTERM, SIGKILL after 15 s). */
  async stop(): Promise<void> {
    await Promise.all(
      this.workers.map(async (w) => {
        if (!alive(w)) return;
        const exited = new Promise<void>((done) => w.proc.once('exit', () => done()));
        w.proc.kill('SIGTERM');
        const timer = setTimeout(() => w.proc.kill('SIGKILL'), 15_000);
        await exited;
        clearTimeout(timer);
      }),
    );
  }
}

function alive(w: WorkerProcess): boolean {
  return w.proc.exitCode === null && w.proc.signalCode === null;
}

/** Whether a call is a top-level card post about this action that Slack took. */
export function isCardPost(call: SlackCall, actionId: string): boolean {
  return call.method === 'chat.postMessage' && call.response.ok === true && !call.args.thread_ts && call.args.channel === RECOVERY_CHANNEL && JSON.stringify(call.args.blocks ?? '').includes(actionId);
}

export interface WorkerRecoveryResult {
  /** Seconds from the kill to the card Slack took, per run. */
  seconds: number[];
  median: number;
  max: number;
  /** Every card posted once, by a surviving worker. */
  postedOnce: boolean;
}

/**
 * Runs `runs` kills (default 3) and returns the recovery seconds. The caller gives a Postgres
 * superuser URL and a Redis; a database and a queue prefix of its own are made here.
 */
export async function measureWorkerRecovery(opts: { postgresUrl: string; redisUrl: string; workDir: string; runs?: number }): Promise<WorkerRecoveryResult> {
  const runs = opts.runs ?? 3;
  fs.mkdirSync(opts.workDir, { recursive: true });
  const config = recoveryConfig(opts.workDir);
  const dbName = `bench_recovery_${process.pid}`;
  await createDatabase(opts.postgresUrl, dbName);
  const dbUrl = databaseUrl(opts.postgresUrl, dbName);
  await applyMigrations(dbUrl);
  const signingKey = newSigningKey();
  const prefix = `bench-recovery-${process.pid}`;
  const slack = await recoverySlack();
  // The API in this process (it only takes submissions); the queue runs in the workers.
  const api = await startService({
    settings: parseSettings({
      DATABASE_URL: dbUrl,
      REDIS_URL: opts.redisUrl,
      HOST: '127.0.0.1',
      PORT: '0',
      COUNTERSIGN_POLICY: config.policy,
      COUNTERSIGN_DIRECTORY: config.directory,
      COUNTERSIGN_KEYS_DIR: path.join(opts.workDir, 'keys'),
      COUNTERSIGN_SIGNING_KEY: signingKey,
      COUNTERSIGN_QUEUE_PREFIX: prefix,
    }),
    logger: pino({ level: 'silent' }),
    rootDir: opts.workDir,
    role: 'api',
    modules: [],
  });
  const { token } = await api.keys.create('deploy-bot', { label: 'bench' });
  const cluster = new WorkerCluster({ databaseUrl: dbUrl, redisUrl: opts.redisUrl, prefix, slack, signingKey, policy: config.policy, directory: config.directory, keysDir: path.join(opts.workDir, 'keys') });
  const seconds: number[] = [];
  let postedOnce = true;
  try {
    await Promise.all([cluster.start(), cluster.start()]);
    for (let i = 0; i < runs; i++) {
      const killed = cluster.killOnPost((args) => args.channel === RECOVERY_CHANNEL, { accepted: false });
      const res = await fetch(`${api.url}/v1/actions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify(recoveryIntent(`bench-${i}`)),
      });
      const { id, status } = (await res.json()) as { id: string; status: string };
      if (status !== 'pending') throw new Error(`run ${i}: escalation ended ${status}`);
      const { worker, killedAt } = await killed;
      const card = await waitUntil(`the card of run ${i}`, () => slack.calls.find((c) => isCardPost(c, id)), 300_000, 20);
      seconds.push((card.at - killedAt) / 1000);
      if (card.token === worker.token || slack.calls.filter((c) => isCardPost(c, id)).length !== 1) postedOnce = false;
      process.stdout.write(`worker recovery: run ${i + 1}/${runs}: card ${((card.at - killedAt) / 1000).toFixed(1)} s after the kill\n`);
      if (i + 1 < runs) await cluster.start();
    }
  } finally {
    await cluster.stop();
    await api.stop();
    await slack.close();
  }
  const sorted = [...seconds].sort((a, b) => a - b);
  return { seconds, median: sorted[Math.floor((sorted.length - 1) / 2)] ?? Number.NaN, max: sorted.at(-1) ?? Number.NaN, postedOnce };
}

/** Lines for the bench table. */
export function formatWorkerRecovery(r: WorkerRecoveryResult): string[] {
  return [
    `worker killed mid-post, second worker running: card ${r.median.toFixed(1)} s after the kill (median of ${r.seconds.length}; max ${r.max.toFixed(1)} s; target < 10 s)`,
    `  runs: ${r.seconds.map((s) => s.toFixed(1)).join(', ')} s; ${r.postedOnce ? 'each card posted once, by the surviving worker' : 'A CARD WAS POSTED TWICE OR BY THE KILLED WORKER'}`,
  ];
}

async function main(): Promise<void> {
  const work = path.join(ROOT, '.countersign', 'bench', `recovery-${process.pid}`);
  fs.mkdirSync(work, { recursive: true });
  process.stdout.write('worker recovery: starting Postgres and Redis…\n');
  const pg = await startPostgres({ dataDir: path.join(work, 'pg'), ephemeral: true });
  const redis = await startRedis({ dir: path.join(work, 'redis') });
  try {
    const result = await measureWorkerRecovery({ postgresUrl: pg.url, redisUrl: redis.url, workDir: work, runs: Number(process.env.BENCH_RECOVERY_RUNS ?? 3) });
    process.stdout.write(['', ...formatWorkerRecovery(result), ''].join('\n') + '\n');
  } finally {
    await redis.stop();
    await pg.stop();
    fs.rmSync(work, { recursive: true, force: true });
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((err: Error) => {
    process.stderr.write(`worker recovery bench failed: ${err.stack ?? err.message}\n`);
    process.exit(1);
  });
}
