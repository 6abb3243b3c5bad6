import pg from 'pg';
import { treeCpuSeconds } from './cpu.ts';
import { approveCard, escalate, inPool, openLongPoll, sleep, SlackWatch, submitEscalation } from './escalation-flow.ts';
import { QueueWatch, until } from './queue-watch.ts';
import { startSlackStack } from './slack-stack.ts';
import { reportStages } from './report-escalations.ts';
import { isMain, runStandalone } from './standalone.ts';

// Where an escalation's CPU goes, stage by stage. The service runs split in two processes of
// the same database and Redis (COUNTERSIGN_ROLE=api: HTTP, Slack clicks, long-polls;
// COUNTERSIGN_ROLE=worker: outbox dispatcher, queue jobs), so each process's CPU belongs to
// its role; the escalations go through in phases, so each phase's CPU belongs to one stage:
//   a. submit N escalations, the worker process stopped meanwhile (SIGSTOP: its dispatcher
//      runs a card job's first attempt itself, so no queue pause would hold the cards back):
//      api = submit
//   b. let the worker go on (SIGCONT), until every outbox event is dispatched, every card is
//      posted and the queues are empty: worker = outbox → card post (+ the requester's DM)
//   c. the agents open N long-polls, until all are sent and the API's CPU is back to idle:
//      api = long-poll wait
//   d. the reviewer clicks Approve on every card (16 at a time), until every long-poll has
//      answered, every card was updated (chat.update at the fake) and the queues are empty:
//      api = click → vote → long-poll answer; worker = card update + notices
// Each process's idle CPU rate (measured for 2 s before, after a warm-up round) times the
// phase's duration is subtracted. What the api process does in b and the worker in c is
// reported as "other"; Postgres' and Redis' CPU per phase beside it.

export const PHASES = ['submit', 'cards', 'wait', 'clicks'] as const;
export type Phase = (typeof PHASES)[number];
export type Sampled = 'api' | 'worker' | 'postgres' | 'redis';

export const STAGES = [
  { key: 'submit', label: 'submit (POST /v1/actions)', process: 'api', phase: 'submit' },
  { key: 'card_post', label: 'outbox → card post (+ requester DM)', process: 'worker', phase: 'cards' },
  { key: 'long_poll_wait', label: 'long-poll wait', process: 'api', phase: 'wait' },
  { key: 'click_vote_answer', label: 'click → vote → long-poll answer', process: 'api', phase: 'clicks' },
  { key: 'card_update_notices', label: 'card update + notices', process: 'worker', phase: 'clicks' },
] as const satisfies readonly { key: string; label: string; process: 'api' | 'worker'; phase: Phase }[];

export interface StageBenchOptions {
  postgresUrl: string;
  redisUrl: string;
  workDir: string;
  postgresPid?: number;
  redisPid?: number;
  /** Escalations per phase (300). */
  count?: number;
  /** Slack channels (one card each by default, so pacing never defers one). */
  channels?: number;
  /**
   * Full escalations before measuring, so the phases run warm code (20; the bench asks 1,000: after
   * 20, V8 still spent a fifth to a third of the phases' CPU compiling, after 2,000 a twentieth).
   */
  warmup?: number;
  clickConcurrency?: number;
  idleMs?: number;
}

export interface PhaseCpu {
  seconds: number;
  /** CPU seconds each sampled process used in the phase. */
  cpuSeconds: Partial<Record<Sampled, number>>;
  /** The same minus its idle rate × the phase's duration. */
  netSeconds: Partial<Record<Sampled, number>>;
}

export interface StageBenchResult {
  count: number;
  channels: number;
  /** Idle CPU rate of each sampled process (CPU seconds per second, i.e. share of a core). */
  idle: { seconds: number; rate: Partial<Record<Sampled, number>> };
  phases: Record<Phase, PhaseCpu>;
  /** Slack Web API calls per escalation in each phase, by method (what the worker's CPU bought). */
  slackCalls: Record<Phase, Record<string, number>>;
  /** Net service CPU per escalation (µs) of each named stage. */
  stages: { key: string; label: string; process: 'api' | 'worker'; micros: number }[];
  /** What no stage names: the api process in phase b, the worker in phase c (µs per escalation). */
  otherMicros: number;
  /** Every phase, both service processes (µs per escalation). */
  sumMicros: number;
}

export async function runStageBench(opts: StageBenchOptions): Promise<StageBenchResult> {
  const n = opts.count ?? 300;
  const channels = opts.channels ?? n;
  const warmup = opts.warmup ?? 20;
  const stack = await startSlackStack({ postgresUrl: opts.postgresUrl, redisUrl: opts.redisUrl, workDir: opts.workDir, name: 'stages', channels, roles: ['api', 'worker'] });
  const queues = new QueueWatch(opts.redisUrl, stack.queuePrefix);
  const watch = new SlackWatch(stack.fake);
  const api = stack.processes.find((p) => p.role === 'api')!;
  const worker = stack.processes.find((p) => p.role === 'worker')!;
  const pids: Partial<Record<Sampled, number>> = { api: api.pid, worker: worker.pid, postgres: opts.postgresPid, redis: opts.redisPid };
  const sample = () => {
    const cpu: Partial<Record<Sampled, number>> = {};
    for (const [name, pid] of Object.entries(pids)) if (pid) cpu[name as Sampled] = treeCpuSeconds(pid);
    // mono: CLOCK_MONOTONIC µs, the clock of V8's CPU profiles (profile-summary.mjs --window).
    return { at: performance.now(), mono: Number(process.hrtime.bigint() / 1000n), cpu, slackCalls: stack.fake.calls.length };
  };
  type Sample = ReturnType<typeof sample>;
  const delta = (a: Sample, b: Sample) => {
    const cpu: Partial<Record<Sampled, number>> = {};
    for (const k of Object.keys(b.cpu) as Sampled[]) cpu[k] = b.cpu[k]! - a.cpu[k]!;
    return { seconds: (b.at - a.at) / 1000, cpu };
  };
  const timeout = 300_000;
  // One connection for the whole run: a backend per poll would add Postgres CPU to the phase.
  const db = new pg.Client({ connectionString: stack.databaseUrl });
  try {
    await db.connect();
    // Warm-up: a few whole escalations, so the measured phases do not pay for compiling code.
    const url = api.url;
    await inPool(warmup, 4, async (i) => {
      const c = i % channels;
      await escalate({ urls: [url, url, url], token: stack.agentToken(c), channel: c, i, watch, timeoutMs: 60_000 });
    });
    await until('the warm-up to settle', () => queues.idle(), timeout, 100);
    // Past the warm-up cards' pacing turn, and their last Slack calls.
    await sleep(1_500);

    // BENCH_PG_STATS=1 (Postgres started with pg_stat_statements preloaded): Postgres' time per
    // statement over the measured phases, printed at the end.
    const pgStats = process.env.BENCH_PG_STATS ? await db.query('CREATE EXTENSION IF NOT EXISTS pg_stat_statements').then(() => db.query('SELECT pg_stat_statements_reset()')) : null;
    const idleStart = sample();
    await sleep(opts.idleMs ?? 2_000);
    const idle = delta(idleStart, sample());
    const idleRate: Partial<Record<Sampled, number>> = {};
    for (const k of Object.keys(idle.cpu) as Sampled[]) idleRate[k] = idle.cpu[k]! / idle.seconds;

    // a. submit, the worker stopped (it runs nothing, so it is not idle either: see `phase`).
    const ids: string[] = [];
    process.kill(worker.pid, 'SIGSTOP');
    let stopped = true;
    const goOn = () => {
      if (stopped) process.kill(worker.pid, 'SIGCONT');
      stopped = false;
    };
    let a0: Sample, a1: Sample, b1: Sample;
    try {
      a0 = sample();
      await inPool(n, 16, async (i) => {
        const c = i % channels;
        ids[i] = await submitEscalation(api.url, stack.agentToken(c), c, i);
      });
      a1 = sample();
    } finally {
      goOn();
    }

    // b. dispatch and cards.
    await until('every outbox event dispatched and card posted', async () => (await undispatched(db)) === 0 && ids.every((id) => watch.card(id)) && (await queues.idle()), timeout);
    b1 = sample();

    // c. long-polls, held open until their actions are decided in d.
    // Two minutes: far more than the clicks take, short enough that a lost decision fails the run soon.
    const opened = ids.map((id, i) => openLongPoll(api.url, stack.agentToken(i % channels), id, 120));
    const polls = opened.map((p) => p.answer);
    polls.forEach((p) => p.catch(() => undefined));
    await Promise.all(opened.map((p) => p.sent));
    await settled(api.pid, idleRate.api ?? 0);
    const c1 = sample();

    // d. clicks.
    await inPool(n, opts.clickConcurrency ?? 16, (i) => approveCard(api.url, ids[i]!, watch.card(ids[i]!)!));
    const verdicts = await Promise.all(polls);
    const notApproved = verdicts.filter((v) => v.status !== 'approved');
    if (notApproved.length) {
      const seen: Record<string, number> = {};
      for (const v of notApproved) seen[`HTTP ${v.httpStatus} ${v.status}`] = (seen[`HTTP ${v.httpStatus} ${v.status}`] ?? 0) + 1;
      throw new Error(`${notApproved.length} of ${n} long-polls did not answer "approved": ${JSON.stringify(seen)}`);
    }
    await until(
      'every card updated and the queues empty',
      async () => ids.every((id) => watch.updates.has(String(watch.card(id)!.response.ts))) && (await queues.idle()),
      timeout,
    );
    const d1 = sample();
    if (pgStats) {
      const top = await db.query(
        `SELECT calls, round(total_exec_time::numeric, 1) AS exec_ms, round(total_plan_time::numeric, 1) AS plan_ms, left(regexp_replace(query, '\\s+', ' ', 'g'), 110) AS query FROM pg_stat_statements ORDER BY total_exec_time + total_plan_time DESC LIMIT 30`,
      );
      for (const row of top.rows) console.log(`pg ${String(row.calls).padStart(6)} calls ${String(row.exec_ms).padStart(8)} ms exec ${String(row.plan_ms).padStart(7)} ms plan  ${row.query}`);
    }

    const phase = (from: Sample, to: Sample): PhaseCpu => {
      const d = delta(from, to);
      const netSeconds: Partial<Record<Sampled, number>> = {};
      // A process stopped for the whole phase has no idle rate to take off.
      for (const k of Object.keys(d.cpu) as Sampled[]) netSeconds[k] = d.cpu[k]! === 0 ? 0 : d.cpu[k]! - (idleRate[k] ?? 0) * d.seconds;
      return { seconds: d.seconds, cpuSeconds: d.cpu, netSeconds };
    };
    // BENCH_WINDOWS=1: the same windows for `perf report --time` (CLOCK_MONOTONIC, seconds).
    if (process.env.BENCH_PROFILE_DIR || process.env.BENCH_WINDOWS) {
      const marks = { submit: [a0, a1], cards: [a1, b1], wait: [b1, c1], clicks: [c1, d1] } as const;
      for (const [name, [from, to]] of Object.entries(marks)) console.log(`profile window ${name}: --window=${from.mono},${to.mono}`);
    }
    const phases: Record<Phase, PhaseCpu> = { submit: phase(a0, a1), cards: phase(a1, b1), wait: phase(b1, c1), clicks: phase(c1, d1) };
    const calls = (from: Sample, to: Sample) => {
      const byMethod: Record<string, number> = {};
      for (const c of stack.fake.calls.slice(from.slackCalls, to.slackCalls)) byMethod[c.method] = (byMethod[c.method] ?? 0) + 1 / n;
      return byMethod;
    };
    const slackCalls: Record<Phase, Record<string, number>> = { submit: calls(a0, a1), cards: calls(a1, b1), wait: calls(b1, c1), clicks: calls(c1, d1) };
    const micros = (s: number | undefined) => ((s ?? 0) * 1e6) / n;
    const stages = STAGES.map((s) => ({ key: s.key, label: s.label, process: s.process, micros: micros(phases[s.phase].netSeconds[s.process]) }));
    const sumMicros = PHASES.reduce((sum, p) => sum + micros(phases[p].netSeconds.api) + micros(phases[p].netSeconds.worker), 0);
    const otherMicros = sumMicros - stages.reduce((sum, s) => sum + s.micros, 0);
    return { count: n, channels, idle: { seconds: idle.seconds, rate: idleRate }, phases, slackCalls, stages, otherMicros, sumMicros };
  } finally {
    await db.end().catch(() => undefined);
    await queues.close();
    await stack.stop();
  }
}

/**
 * Waits until `pid` is back to about its idle CPU rate (within 5 % of a core over 400 ms),
 * at least 400 ms and at most 15 s: the server has taken every request sent to it.
 */
async function settled(pid: number, idleRate: number): Promise<void> {
  const windowMs = 400;
  const deadline = Date.now() + 15_000;
  let last = treeCpuSeconds(pid);
  for (;;) {
    await sleep(windowMs);
    const now = treeCpuSeconds(pid);
    const rate = (now - last) / (windowMs / 1000);
    last = now;
    if (rate <= idleRate + 0.05 || Date.now() > deadline) return;
  }
}

// Standalone: npx tsx test/bench/escalation-stages.ts   (BENCH_STAGE_COUNT, default 300)
if (isMain(import.meta.url)) {
  await runStandalone('stages', (d) => runStageBench({ ...d, count: Number(process.env.BENCH_STAGE_COUNT ?? 300), warmup: Number(process.env.BENCH_STAGE_WARMUP ?? 1000) }), reportStages);
}

/** Outbox events not yet turned into queue jobs (read as the database owner). */
async function undispatched(db: pg.Client): Promise<number> {
  const { rows } = await db.query<{ n: string }>('SELECT count(*) AS n FROM "OutboxEvent" WHERE "dispatchedAt" IS NULL');
  return Number(rows[0]!.n);
}
