import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { createDatabase, databaseUrl, startPostgres, startRedis } from '@countersign/devstack';
import { applyMigrations } from '@countersign/db/migrate';
import { FakeSlack, type SlackCall } from '../fakes/slack-api.ts';
import { click } from '../fakes/slack-interactions.ts';

// Escalations through Slack, measured end to end: the service (API + queue workers + Bolt) in
// its own process, the fake Slack Web API and the "people" (agents submitting and long-polling,
// a reviewer clicking) here. For each escalation:
//   card latency    = POST /v1/actions sent → the card's chat.postMessage reaching Slack
//   release latency = the deciding click sent → the agent's long-poll answering "approved"
// Slack allows about one message per second per channel. The queue paces posts per channel
// (COUNTERSIGN_CHANNEL_PACING_MS slack=1000) and the fake answers 429 to any channel that gets
// a second post within a second, so the run also shows the limit was respected. Escalations
// are spread over many channels (one policy rule, one agent and one owner per channel) at a
// steady arrival rate, as real escalations would be; all at once into one channel would only
// measure the limit (1,000 cards at one per second is 1,000 s). The default, 25/s over 100
// channels (40 s), gives each channel one escalation every 4 s: its card and the requester's
// DM fit within Slack's limit. On a busy machine (load far above the core count) latencies
// grow with CPU contention, not with this design: lower BENCH_SLACK_RATE to compare.
//
// Standalone: npx tsx test/bench/slack-escalations.ts
//   BENCH_SLACK_COUNT (1000), BENCH_SLACK_CHANNELS (100), BENCH_SLACK_RATE (25/s),
//   BENCH_SLACK_PACING_MS (1000), COUNTERSIGN_WORKER_CONCURRENCY (8)
// From test/bench/main.ts: runSlackBench({ postgresUrl, redisUrl, workDir }) and
// formatSlackBench(result) for the table.

export interface SlackBenchOptions {
  /** Superuser URL of a Postgres to create the bench database in. */
  postgresUrl: string;
  redisUrl: string;
  /** Scratch folder (policy, directory, keys). */
  workDir: string;
  count?: number;
  channels?: number;
  /** Escalations submitted per second. */
  ratePerSecond?: number;
}

export interface Percentiles {
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

export interface SlackBenchResult {
  count: number;
  channels: number;
  ratePerSecond: number;
  seconds: number;
  cardMs: Percentiles;
  releaseMs: Percentiles;
  /** Escalations that did not complete (no card, no release, or not approved). */
  failures: number;
  /**
   * Where card latency goes, from the queue's own records of the post-cards jobs: submission
   * → job enqueued (commit, outbox, dispatcher), enqueued → started (queue wait, including
   * pacing deferrals), started → finished (the job: Postgres, Redis, chat.postMessage).
   */
  cardBreakdown: { dispatchMs: Percentiles; queueWaitMs: Percentiles; jobMs: Percentiles } | null;
  rateLimit: { pacingMs: number; answered429: number; maxPostsPerChannelPerSecond: number };
}

const TEAM = 'T0BENCH001';
const SECRET = 'bench-signing-secret-0123456789';
const REVIEWER = { id: 'U0REVIEW01', teamId: TEAM };
const PACING_MS = Number(process.env.BENCH_SLACK_PACING_MS ?? 1000);
const root = path.resolve(import.meta.dirname, '..', '..');

const pad = (i: number) => String(i).padStart(4, '0');

function benchFiles(workDir: string, channels: number): { policy: string; directory: string; agents: string[] } {
  const rules = [];
  const people = [`  - { id: reviewer, name: Reviewer, email: reviewer@bench.test, roles: [sre-lead], slack: { userId: ${REVIEWER.id} } }`];
  const agents = [];
  for (let i = 0; i < channels; i++) {
    rules.push(`  - id: bench-slack-${i}
    when: 'action.type == "bench.slack" && action.resource == "res-${i}"'
    outcome: escalate
    reason: bench escalation ${i}
    requirement:
      approvers: [{ role: sre-lead, count: 1 }]
      expiresIn: 30m
      channels: { slack: ['#bench-${i}'] }`);
    // One agent (and owner) per channel, so requester DMs spread like the cards do.
    people.push(`  - { id: owner-${i}, name: Owner ${i}, email: owner-${i}@bench.test, roles: [], slack: { userId: U0OWN${pad(i)} } }`);
    agents.push(`agent-${i}`);
  }
  const agentLines = agents.map((a, i) => `  - { id: ${a}, name: Agent ${i}, owner: owner-${i}, roles: [] }`);
  const policy = path.join(workDir, 'slack-bench-policy.yaml');
  const directory = path.join(workDir, 'slack-bench-directory.yaml');
  fs.writeFileSync(policy, `version: 1\nrules:\n${rules.join('\n\n')}\n`);
  fs.writeFileSync(directory, `version: 1\npeople:\n${people.join('\n')}\nagents:\n${agentLines.join('\n')}\n`);
  return { policy, directory, agents };
}

function startServer(env: Record<string, string>): Promise<{ child: ChildProcess; port: string }> {
  return new Promise((resolve, reject) => {
    // BENCH_PROFILE_DIR: write a V8 CPU profile of the service process there (where the time goes).
    const profile = process.env.BENCH_PROFILE_DIR ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE_DIR}`] : [];
    if (process.env.BENCH_EXTRA_IMPORT) profile.push('--import', process.env.BENCH_EXTRA_IMPORT);
    const child = spawn(process.execPath, [...profile, '--import', 'tsx', path.join(import.meta.dirname, 'slack-server.ts')], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
    let buf = '';
    child.stdout!.on('data', (d: Buffer) => {
      buf += d.toString();
      const line = buf.split('\n').find((l) => l.startsWith('READY '));
      if (line) resolve({ child, port: line.split(' ')[1]! });
    });
    child.on('exit', (code) => reject(new Error(`slack-server exited with ${code}`)));
  });
}

async function stopServer(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  child.removeAllListeners('exit');
  await new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

function percentiles(values: number[]): Percentiles {
  const s = [...values].sort((a, b) => a - b);
  const q = (p: number) => (s.length ? s[Math.min(s.length - 1, Math.ceil(p * s.length) - 1)]! : Number.NaN);
  return { p50: q(0.5), p95: q(0.95), p99: q(0.99), max: s.length ? s[s.length - 1]! : Number.NaN };
}

/** The action id a top-level card is about (its Approve button carries it). */
function cardActionId(call: SlackCall): string | null {
  if (call.method !== 'chat.postMessage' || call.status !== 200 || call.response.ok !== true || call.args.thread_ts) return null;
  const blocks = call.args.blocks as { type: string; elements?: { action_id?: string }[] }[] | undefined;
  const id = blocks?.find((b) => b.type === 'actions')?.elements?.[0]?.action_id;
  return id?.startsWith('countersign:approve:') ? id.slice('countersign:approve:'.length) : null;
}

/** Most top-level posts any one channel received within one second. */
function maxPostsPerSecond(calls: SlackCall[]): number {
  const byChannel = new Map<string, number[]>();
  for (const c of calls) {
    if (c.method !== 'chat.postMessage' || c.response.ok !== true) continue;
    const ch = String(c.response.channel);
    byChannel.set(ch, [...(byChannel.get(ch) ?? []), c.at]);
  }
  let max = 0;
  for (const times of byChannel.values()) {
    times.sort((a, b) => a - b);
    let start = 0;
    for (let end = 0; end < times.length; end++) {
      while (times[end]! - times[start]! >= 1000) start++;
      max = Math.max(max, end - start + 1);
    }
  }
  return max;
}

export async function runSlackBench(opts: SlackBenchOptions): Promise<SlackBenchResult> {
  const count = opts.count ?? 1000;
  const channels = opts.channels ?? 100;
  const rate = opts.ratePerSecond ?? 25;
  fs.mkdirSync(opts.workDir, { recursive: true });
  const files = benchFiles(opts.workDir, channels);

  const fake = await FakeSlack.start({
    teamId: TEAM,
    channelRate: { windowMs: 1000, burst: 1 },
    channels: Array.from({ length: channels }, (_, i) => ({ id: `C0BENCH${pad(i)}`, name: `bench-${i}` })),
    users: [
      { id: REVIEWER.id, team_id: TEAM, email: 'reviewer@bench.test', is_email_confirmed: true },
      ...Array.from({ length: channels }, (_, i) => ({ id: `U0OWN${pad(i)}`, team_id: TEAM, email: `owner-${i}@bench.test`, is_email_confirmed: true })),
    ],
  });
  const dbName = `bench_slack_${process.pid}`;
  await createDatabase(opts.postgresUrl, dbName);
  const dbUrl = databaseUrl(opts.postgresUrl, dbName);
  await applyMigrations(dbUrl);
  const tokensFile = path.join(opts.workDir, 'slack-bench-tokens.json');
  const server = await startServer({
    DATABASE_URL: dbUrl,
    REDIS_URL: opts.redisUrl,
    COUNTERSIGN_POLICY: files.policy,
    COUNTERSIGN_DIRECTORY: files.directory,
    COUNTERSIGN_KEYS_DIR: path.join(opts.workDir, 'slack-bench-keys'),
    COUNTERSIGN_QUEUE_PREFIX: `bench-slack-${process.pid}`,
    COUNTERSIGN_WORKER_CONCURRENCY: process.env.COUNTERSIGN_WORKER_CONCURRENCY ?? '8',
    COUNTERSIGN_CHANNEL_PACING_MS: `slack=${PACING_MS}`,
    SLACK_BOT_TOKEN: fake.token,
    SLACK_SIGNING_SECRET: SECRET,
    SLACK_TEAM_ID: TEAM,
    SLACK_API_URL: fake.url,
    BENCH_AGENTS: files.agents.join(','),
    BENCH_TOKENS_FILE: tokensFile,
  });
  const base = `http://127.0.0.1:${server.port}`;
  const tokens = JSON.parse(fs.readFileSync(tokensFile, 'utf8')) as Record<string, string>;

  // Card posted → the reviewer clicks Approve on it at once.
  const cardWaiters = new Map<string, (call: SlackCall) => void>();
  const early = new Map<string, SlackCall>();
  fake.onCall((call) => {
    const id = cardActionId(call);
    if (!id) return;
    const waiter = cardWaiters.get(id);
    if (waiter) waiter(call);
    else early.set(id, call);
  });
  const cardPosted = (id: string) =>
    new Promise<SlackCall>((resolve) => {
      const seen = early.get(id);
      if (seen) resolve(seen);
      else cardWaiters.set(id, resolve);
    });

  const cardMs: number[] = [];
  const submittedAtById = new Map<string, number>();
  const releaseMs: number[] = [];
  let failures = 0;
  const one = async (i: number): Promise<void> => {
    const c = i % channels;
    const token = tokens[`agent-${c}`]!;
    const submittedAt = Date.now();
    const res = await fetch(`${base}/v1/actions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ action: { type: 'bench.slack', resource: `res-${c}`, summary: `Bench escalation ${i}` }, risk: { class: 'write' } }),
    });
    const body = (await res.json()) as { id: string; status: string };
    if (body.status !== 'pending') throw new Error(`escalation ${i}: ${res.status} ${JSON.stringify(body)}`);
    submittedAtById.set(body.id, submittedAt);
    // The agent waits for the verdict from the moment it has an id.
    const released = fetch(`${base}/v1/actions/${body.id}?wait=60`, { headers: { authorization: `Bearer ${token}` } }).then(async (r) => ({ at: Date.now(), body: (await r.json()) as { status: string; releaseToken?: string } }));
    const card = await cardPosted(body.id);
    cardMs.push(card.at - submittedAt);
    const clickedAt = Date.now();
    const answer = await click(base, SECRET, { user: REVIEWER, decision: 'approve', actionId: body.id, channel: String(card.response.channel), messageTs: String(card.response.ts) });
    if (answer.status !== 200) throw new Error(`click ${i}: ${answer.status}`);
    const verdict = await released;
    if (verdict.body.status !== 'approved' || !verdict.body.releaseToken) throw new Error(`escalation ${i} ended ${verdict.body.status}`);
    releaseMs.push(verdict.at - clickedAt);
  };

  const started = Date.now();
  const prefix = `bench-slack-${process.pid}`;
  let cardBreakdown: SlackBenchResult['cardBreakdown'] = null;
  try {
    const runs: Promise<void>[] = [];
    for (let i = 0; i < count; i++) {
      const due = started + (i * 1000) / rate;
      const wait = due - Date.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      runs.push(
        one(i).catch((err: Error) => {
          failures++;
          if (failures <= 5) process.stderr.write(`slack bench: ${err.message}\n`);
        }),
      );
    }
    await Promise.all(runs);
    cardBreakdown = await postCardsBreakdown(opts.redisUrl, prefix, submittedAtById);
  } finally {
    await stopServer(server.child);
    await fake.close();
  }
  return {
    count,
    channels,
    ratePerSecond: rate,
    seconds: (Date.now() - started) / 1000,
    cardMs: percentiles(cardMs),
    releaseMs: percentiles(releaseMs),
    failures,
    cardBreakdown,
    rateLimit: {
      pacingMs: PACING_MS,
      answered429: fake.calls.filter((c) => c.method === 'chat.postMessage' && c.status === 429).length,
      maxPostsPerChannelPerSecond: maxPostsPerSecond(fake.calls),
    },
  };
}

async function postCardsBreakdown(redisUrl: string, prefix: string, submittedAt: Map<string, number>): Promise<SlackBenchResult['cardBreakdown']> {
  const connection = new Redis(redisUrl, { maxRetriesPerRequest: null });
  const chat = new Queue('chat', { connection, prefix });
  try {
    const jobs = (await chat.getJobs(['completed'], 0, -1)).filter((j) => j.name === 'post-cards' && (j.data as { tier?: number }).tier === 0);
    const dispatch: number[] = [];
    const wait: number[] = [];
    const run: number[] = [];
    for (const j of jobs) {
      const at = submittedAt.get((j.data as { actionId: string }).actionId);
      if (at === undefined || !j.processedOn || !j.finishedOn) continue;
      dispatch.push(j.timestamp - at);
      wait.push(j.processedOn - j.timestamp);
      run.push(j.finishedOn - j.processedOn);
    }
    return dispatch.length ? { dispatchMs: percentiles(dispatch), queueWaitMs: percentiles(wait), jobMs: percentiles(run) } : null;
  } finally {
    await chat.close();
    connection.disconnect();
  }
}

/** Lines for the bench table. */
export function formatSlackBench(r: SlackBenchResult): string[] {
  const f = (p: Percentiles) => `p50 ${p.p50.toFixed(0).padStart(5)} ms   p95 ${p.p95.toFixed(0).padStart(5)} ms   p99 ${p.p99.toFixed(0).padStart(5)} ms   max ${p.max.toFixed(0)} ms`;
  return [
    `slack: ${r.count} escalations over ${r.channels} channels at ${r.ratePerSecond}/s (${r.seconds.toFixed(1)} s, ${r.failures} failed)`,
    `  POST /v1/actions → card posted     ${f(r.cardMs)}   (target p95 < 2000 ms)`,
    `  deciding click → long-poll returns ${f(r.releaseMs)}   (target p95 < 1000 ms)`,
    ...(r.cardBreakdown
      ? [
          `    of which: to enqueued p50 ${r.cardBreakdown.dispatchMs.p50.toFixed(0)} / p95 ${r.cardBreakdown.dispatchMs.p95.toFixed(0)} ms; ` +
            `queue wait p50 ${r.cardBreakdown.queueWaitMs.p50.toFixed(0)} / p95 ${r.cardBreakdown.queueWaitMs.p95.toFixed(0)} ms; ` +
            `post-cards job p50 ${r.cardBreakdown.jobMs.p50.toFixed(0)} / p95 ${r.cardBreakdown.jobMs.p95.toFixed(0)} ms`,
        ]
      : []),
    `  per-channel limit: queue paces ${r.rateLimit.pacingMs} ms/channel; max ${r.rateLimit.maxPostsPerChannelPerSecond} post(s) per channel in any 1 s; fake Slack answered ${r.rateLimit.answered429} × 429`,
  ];
}

async function main(): Promise<void> {
  const work = path.join(root, '.countersign', 'bench', `slack-${process.pid}`);
  fs.mkdirSync(work, { recursive: true });
  process.stdout.write('slack bench: starting Postgres and Redis…\n');
  const pg = await startPostgres({ dataDir: path.join(work, 'pg'), ephemeral: true });
  const redis = await startRedis({ dir: path.join(work, 'redis') });
  try {
    const result = await runSlackBench({
      postgresUrl: pg.url,
      redisUrl: redis.url,
      workDir: work,
      count: Number(process.env.BENCH_SLACK_COUNT ?? 1000),
      channels: Number(process.env.BENCH_SLACK_CHANNELS ?? 100),
      ratePerSecond: Number(process.env.BENCH_SLACK_RATE ?? 25),
    });
    process.stdout.write(['', ...formatSlackBench(result), ''].join('\n') + '\n');
    fs.writeFileSync(path.join(root, '.countersign', 'bench', 'slack-results.json'), JSON.stringify({ at: new Date().toISOString(), ...result }, null, 2));
  } finally {
    await redis.stop();
    await pg.stop();
    fs.rmSync(work, { recursive: true, force: true });
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((err: Error) => {
    process.stderr.write(`slack bench failed: ${err.stack ?? err.message}\n`);
    process.exit(1);
  });
}
