import type { SlackCall } from '../fakes/slack-api.ts';
import { machineBusySeconds, treeCpuSeconds } from './cpu.ts';
import { escalate, inPool, percentiles, sleep, SlackWatch, type Percentiles } from './escalation-flow.ts';
import { processMemory, type ProcessMemory } from './memory.ts';
import { QueueWatch } from './queue-watch.ts';
import { reportSlackRun } from './report-escalations.ts';
import { startSlackStack, type SlackStack } from './slack-stack.ts';
import { isMain, runStandalone } from './standalone.ts';

// Escalations through Slack, measured end to end: the service (API + queue workers + Bolt) in
// one process of its own, the fake Slack Web API and the "people" (agents submitting and
// long-polling, a reviewer clicking) here. For each escalation:
//   card latency    = POST /v1/actions sent → the card's chat.postMessage reaching Slack
//   release latency = the deciding click sent → the agent's long-poll answering "approved"
// and for the run: the service process's CPU seconds from the first submission to the last
// release, per escalation (with Postgres', Redis' and this process's beside it), and the
// service's resident memory right after the last release. The run is measured twice on one
// process: first as it starts (its first escalations also pay for V8 compiling the code they
// run), then again after a warm-up of unmeasured escalations (what a service that has run a
// while pays per escalation).
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
//   BENCH_SLACK_PACING_MS (1000), COUNTERSIGN_WORKER_CONCURRENCY (8), BENCH_SLACK_WARMUP (2000)
// From test/bench/main.ts: runSlackBench({ postgresUrl, redisUrl, workDir }).

export interface SlackBenchOptions {
  /** Superuser URL of a Postgres to create the bench database in. */
  postgresUrl: string;
  redisUrl: string;
  /** Scratch folder (policy, directory, keys). */
  workDir: string;
  /** Sampled for CPU beside the service, when given. */
  postgresPid?: number;
  redisPid?: number;
  count?: number;
  channels?: number;
  /** Escalations submitted per second. */
  ratePerSecond?: number;
  /** Unmeasured escalations between the first run and the warm one (2,000; 0: no warm run). */
  warmup?: number;
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
  /**
   * CPU seconds from the first submission to the last release: the service process, and beside
   * it Postgres, Redis, this process, and the whole machine (whatever else ran shows there).
   */
  cpuSeconds: { service: number; postgres?: number; redis?: number; bench: number; machine: number };
  /** Seconds from the first submission to the last release (the CPU window). */
  cpuWindowSeconds: number;
  /** The service process right after the last release. */
  memory: ProcessMemory;
  /**
   * The same run again on the same process after `after` escalations in all: CPU per escalation
   * of a service that has run a while (what a long-running deployment pays), latencies, memory.
   */
  warm: {
    after: number;
    cardMs: Percentiles;
    releaseMs: Percentiles;
    failures: number;
    cpuSeconds: { service: number; postgres?: number; redis?: number; bench: number; machine: number };
    cpuWindowSeconds: number;
    /** RSS right after the warm run; its peak is the process's whole life's. */
    memory: ProcessMemory;
    /** Slack's limit in the warm-up (eight at a time) and in the warm run: 429s, most posts in one channel in any 1 s. */
    warmUpLimits: { answered429: number; maxPostsPerChannelPerSecond: number };
    limits: { answered429: number; maxPostsPerChannelPerSecond: number };
  } | null;
  /** Why the warm-up or the warm run did not finish (the first run's figures stand). */
  warmError?: string;
}

const PACING_MS = Number(process.env.BENCH_SLACK_PACING_MS ?? 1000);

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

/** One measured run: `count` escalations offered at `rate`/s, CPU from the first submission to the last release. */
export interface SlackRun {
  cardMs: Percentiles;
  releaseMs: Percentiles;
  failures: number;
  cpuSeconds: SlackBenchResult['cpuSeconds'];
  cpuWindowSeconds: number;
  submittedAtById: Map<string, number>;
}

async function measureRun(stack: SlackStack, watch: SlackWatch, opts: SlackBenchOptions, first: number, count: number, rate: number, channels: number): Promise<SlackRun> {
  const service = stack.processes[0]!;
  const url = service.url;
  const cardMs: number[] = [];
  const releaseMs: number[] = [];
  const submittedAtById = new Map<string, number>();
  let failures = 0;
  const others = () => ({
    postgres: opts.postgresPid ? treeCpuSeconds(opts.postgresPid) : undefined,
    redis: opts.redisPid ? treeCpuSeconds(opts.redisPid) : undefined,
    bench: process.cpuUsage(),
    machine: machineBusySeconds(),
  });
  const before = { service: treeCpuSeconds(service.pid), ...others() };
  const monoFrom = process.hrtime.bigint() / 1000n;
  const started = Date.now();
  const runs: Promise<void>[] = [];
  for (let j = 0; j < count; j++) {
    const i = first + j;
    const due = started + (j * 1000) / rate;
    const wait = due - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const c = i % channels;
    runs.push(
      escalate({ urls: [url, url, url], token: stack.agentToken(c), channel: c, i, watch, timeoutMs: 120_000 }).then(
        (t) => {
          submittedAtById.set(t.id, t.submittedAt);
          cardMs.push(t.cardMs);
          releaseMs.push(t.releaseMs);
        },
        (err: Error) => {
          failures++;
          if (failures <= 5) process.stderr.write(`slack bench: ${err.message}\n`);
        },
      ),
    );
  }
  await Promise.all(runs);
  const after = { service: treeCpuSeconds(service.pid), ...others() };
  // BENCH_WINDOWS=1: the run's window on CLOCK_MONOTONIC (µs), for profile-summary.mjs --window or perf --time.
  if (process.env.BENCH_WINDOWS) console.log(`profile window run ${first}: --window=${monoFrom},${process.hrtime.bigint() / 1000n}`);
  const cpuWindowSeconds = (Date.now() - started) / 1000;
  const bench = process.cpuUsage(before.bench);
  const cpuSeconds = {
    service: after.service - before.service,
    ...(after.postgres !== undefined && before.postgres !== undefined ? { postgres: after.postgres - before.postgres } : {}),
    ...(after.redis !== undefined && before.redis !== undefined ? { redis: after.redis - before.redis } : {}),
    bench: (bench.user + bench.system) / 1e6,
    machine: after.machine - before.machine,
  };
  return { cardMs: percentiles(cardMs), releaseMs: percentiles(releaseMs), failures, cpuSeconds, cpuWindowSeconds, submittedAtById };
}

export async function runSlackBench(opts: SlackBenchOptions): Promise<SlackBenchResult> {
  const count = opts.count ?? 1000;
  const channels = opts.channels ?? 100;
  const rate = opts.ratePerSecond ?? 25;
  const warmup = opts.warmup ?? 2000;
  const stack = await startSlackStack({ postgresUrl: opts.postgresUrl, redisUrl: opts.redisUrl, workDir: opts.workDir, name: 'slack', channels, roles: ['all'], pacingMs: PACING_MS });
  const service = stack.processes[0]!;
  const url = service.url;
  const watch = new SlackWatch(stack.fake);
  try {
    // First the service as it starts: its first `count` escalations, V8 still compiling the
    // code they run (on this machine a fifth to a third of the CPU of the first few hundred).
    const cold = await measureRun(stack, watch, opts, 0, count, rate, channels);
    const memory = processMemory(service.pid);
    const cardBreakdown = await postCardsBreakdown(opts.redisUrl, stack.queuePrefix, cold.submittedAtById);
    const coldCalls = stack.fake.calls.length;
    const limits = (from: number, to: number) => {
      const calls = stack.fake.calls.slice(from, to);
      return { answered429: calls.filter((c) => c.method === 'chat.postMessage' && c.status === 429).length, maxPostsPerChannelPerSecond: maxPostsPerSecond(calls) };
    };
    // Then as a service that has run a while: `warmup` more escalations, eight at a time and
    // not measured, and the same run again. (Its database then holds `warmup` + `count` more
    // actions: the ratio is mostly, not only, V8's compiling.) A warm-up or warm run that fails
    // leaves the first run's figures standing.
    let warm: SlackBenchResult['warm'] = null;
    let warmError: string | undefined;
    if (warmup > 0) {
      try {
        await inPool(warmup, 8, async (j) => {
          const i = count + j;
          const c = i % channels;
          await escalate({ urls: [url, url, url], token: stack.agentToken(c), channel: c, i, watch, timeoutMs: 120_000 });
        });
        // Past the warm-up cards' pacing turn, and their last Slack calls.
        await sleep(1_500);
        const warmFrom = stack.fake.calls.length;
        const run = await measureRun(stack, watch, opts, count + warmup, count, rate, channels);
        warm = {
          after: count + warmup,
          cardMs: run.cardMs,
          releaseMs: run.releaseMs,
          failures: run.failures,
          cpuSeconds: run.cpuSeconds,
          cpuWindowSeconds: run.cpuWindowSeconds,
          memory: processMemory(service.pid),
          warmUpLimits: limits(coldCalls, warmFrom),
          limits: limits(warmFrom, stack.fake.calls.length),
        };
      } catch (err) {
        warmError = (err as Error).message;
      }
    }
    const cold1 = limits(0, coldCalls);
    return {
      count,
      channels,
      ratePerSecond: rate,
      seconds: cold.cpuWindowSeconds,
      cardMs: cold.cardMs,
      releaseMs: cold.releaseMs,
      failures: cold.failures,
      cardBreakdown,
      rateLimit: { pacingMs: PACING_MS, ...cold1 },
      cpuSeconds: cold.cpuSeconds,
      cpuWindowSeconds: cold.cpuWindowSeconds,
      memory,
      warm,
      ...(warmError !== undefined ? { warmError } : {}),
    };
  } finally {
    await stack.stop();
  }
}

async function postCardsBreakdown(redisUrl: string, prefix: string, submittedAt: Map<string, number>): Promise<SlackBenchResult['cardBreakdown']> {
  const queues = new QueueWatch(redisUrl, prefix);
  try {
    const jobs = (await queues.queueOf('post-cards').getJobs(['completed'], 0, -1)).filter((j) => j.name === 'post-cards' && (j.data as { tier?: number }).tier === 0);
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
    await queues.close();
  }
}

if (isMain(import.meta.url)) {
  await runStandalone(
    'slack',
    (d) =>
      runSlackBench({
        ...d,
        count: Number(process.env.BENCH_SLACK_COUNT ?? 1000),
        channels: Number(process.env.BENCH_SLACK_CHANNELS ?? 100),
        ratePerSecond: Number(process.env.BENCH_SLACK_RATE ?? 25),
        warmup: Number(process.env.BENCH_SLACK_WARMUP ?? 2000),
      }),
    reportSlackRun,
  );
}
