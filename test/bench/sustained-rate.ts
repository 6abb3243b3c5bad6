import { machineBusySeconds, treeCpuSeconds } from './cpu.ts';
import { escalate, percentiles, sleep, SlackWatch, type Percentiles } from './escalation-flow.ts';
import { QueueWatch, until } from './queue-watch.ts';
import { startSlackStack, type ServiceRole, type SlackStack } from './slack-stack.ts';
import { reportSustained } from './report-escalations.ts';
import { isMain, runStandalone } from './standalone.ts';

// The highest escalation rate the service sustains: whole escalations (submit, card, click,
// long-poll answered) offered at a steady rate that steps up (10/s apart up to 80/s, where
// this 2-core machine tops out, then 100, 120, 160, 240, 320/s; each step about 6 s of arrivals), and the highest step whose p95 request →
// card stays under 1 s, with no failure and the rate actually offered. Stepping stops after
// the first failing step. Each step starts once the previous one has drained. Escalations
// rotate over the stack's channels (600 in the bench, so Slack's one post per channel per
// second never paces a card below 600/s) and over its API processes.
//
// Env: BENCH_STEP_RATES (comma-separated /s), BENCH_STEP_SECONDS (6), BENCH_STEP_MIN (60) and
// BENCH_STEP_MAX (2000) escalations per step, BENCH_STEP_THRESHOLD_MS (1000).

export interface RateStepsOptions {
  rates: number[];
  stepSeconds: number;
  minPerStep: number;
  maxPerStep: number;
  thresholdMs: number;
  /** Escalations per service process before the first step, not counted (warm code in each). */
  warmup: number;
}

export function rateStepsFromEnv(quick: boolean): RateStepsOptions {
  const env = process.env;
  return {
    rates: (env.BENCH_STEP_RATES ?? (quick ? '10,40' : '10,20,30,40,50,60,70,80,100,120,160,240,320')).split(',').map(Number).filter((r) => r > 0),
    stepSeconds: Number(env.BENCH_STEP_SECONDS ?? (quick ? 2 : 6)),
    minPerStep: Number(env.BENCH_STEP_MIN ?? (quick ? 20 : 60)),
    maxPerStep: Number(env.BENCH_STEP_MAX ?? 2000),
    thresholdMs: Number(env.BENCH_STEP_THRESHOLD_MS ?? 1000),
    warmup: quick ? 5 : 20,
  };
}

export interface RateStep {
  /** Offered rate asked for (escalations/s). */
  rate: number;
  count: number;
  /** Rate actually offered: submissions over their spread in time. */
  offeredPerSecond: number;
  cardMs: Percentiles;
  releaseMs: Percentiles;
  failures: number;
  passed: boolean;
  /** From the first submission until the step drained. */
  seconds: number;
  /** Service CPU meanwhile, in cores (all its processes together). */
  serviceCores: number;
  /** The whole machine's busy CPU meanwhile, in cores (the service, Postgres, Redis, this process, anything else). */
  machineCores: number;
}

export interface SustainedResult {
  processes: string;
  channels: number;
  thresholdMs: number;
  steps: RateStep[];
  /** Highest passing step's rate; 0 if none passed. */
  sustainedPerSecond: number;
}

export async function runSustainedRate(stack: SlackStack, redisUrl: string, opts: RateStepsOptions): Promise<SustainedResult> {
  const watch = new SlackWatch(stack.fake);
  const queues = new QueueWatch(redisUrl, stack.queuePrefix);
  const urls = stack.apiUrls;
  let k = 0;
  const one = (timeoutMs: number) => {
    const i = k++;
    const c = i % stack.channels;
    const near = urls[i % urls.length]!;
    const other = urls[(i + 1) % urls.length]!;
    return escalate({ urls: [near, near, other], token: stack.agentToken(c), channel: c, i, watch, timeoutMs });
  };
  const serviceCpu = () => stack.processes.reduce((sum, p) => sum + treeCpuSeconds(p.pid), 0);
  const drained = async () => {
    await until('the step to drain', () => queues.idle(), 300_000, 100);
    // Past the last cards' pacing turn.
    await sleep(1_000);
  };
  const steps: RateStep[] = [];
  try {
    const warm: Promise<unknown>[] = [];
    for (let i = 0; i < opts.warmup * stack.processes.length; i++) {
      warm.push(one(60_000));
      await sleep(100);
    }
    await Promise.all(warm);
    await drained();
    for (const rate of opts.rates) {
      const count = Math.min(opts.maxPerStep, Math.max(opts.minPerStep, Math.round(rate * opts.stepSeconds)));
      const cardMs: number[] = [];
      const releaseMs: number[] = [];
      let failures = 0;
      const cpuBefore = serviceCpu();
      const machineBefore = machineBusySeconds();
      const started = performance.now();
      let lastSubmit = started;
      const runs: Promise<void>[] = [];
      for (let i = 0; i < count; i++) {
        const wait = started + (i * 1000) / rate - performance.now();
        if (wait > 0) await sleep(wait);
        lastSubmit = performance.now();
        runs.push(
          one(120_000).then(
            (t) => {
              cardMs.push(t.cardMs);
              releaseMs.push(t.releaseMs);
            },
            (err: Error) => {
              if (++failures <= 3) process.stderr.write(`sustained rate ${rate}/s: ${err.message}\n`);
            },
          ),
        );
      }
      await Promise.all(runs);
      await until('the step to drain', () => queues.idle(), 300_000, 100);
      const seconds = (performance.now() - started) / 1000;
      const serviceCores = (serviceCpu() - cpuBefore) / seconds;
      const machineCores = (machineBusySeconds() - machineBefore) / seconds;
      const offeredPerSecond = count > 1 ? ((count - 1) * 1000) / (lastSubmit - started) : rate;
      const card = percentiles(cardMs);
      const passed = failures === 0 && card.p95 < opts.thresholdMs && offeredPerSecond >= 0.9 * rate;
      steps.push({ rate, count, offeredPerSecond, cardMs: card, releaseMs: percentiles(releaseMs), failures, passed, seconds, serviceCores, machineCores });
      if (!passed) break;
      await sleep(1_000);
    }
  } finally {
    await queues.close();
  }
  const roles = stack.processes.map((p) => p.role);
  const processes = roles.length === 1 ? 'all-in-one' : `${roles.filter((r) => r === 'api').length} api + ${roles.filter((r) => r === 'worker').length} worker`;
  const passedRates = steps.filter((s) => s.passed).map((s) => s.rate);
  return { processes, channels: stack.channels, thresholdMs: opts.thresholdMs, steps, sustainedPerSecond: passedRates.length ? Math.max(...passedRates) : 0 };
}

// Standalone: npx tsx test/bench/sustained-rate.ts   (BENCH_SUSTAINED_ROLES all | split,
// BENCH_SUSTAINED_CHANNELS (600), BENCH_STEP_* above)
if (isMain(import.meta.url)) {
  const roles: ServiceRole[] = process.env.BENCH_SUSTAINED_ROLES === 'split' ? ['api', 'api', 'worker', 'worker'] : ['all'];
  await runStandalone(
    'sustained',
    async (d) => {
      const stack = await startSlackStack({ ...d, name: 'sustained', channels: Number(process.env.BENCH_SUSTAINED_CHANNELS ?? 600), roles });
      try {
        return await runSustainedRate(stack, d.redisUrl, rateStepsFromEnv(process.env.BENCH_QUICK === '1'));
      } finally {
        await stack.stop();
      }
    },
    (r, result) => reportSustained(r, 'sustained', result),
  );
}
