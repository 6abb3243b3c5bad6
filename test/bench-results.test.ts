import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { runStageBench, STAGES, type StageBenchResult } from './bench/escalation-stages.ts';
import { Report } from './bench/report.ts';
import { reportSlackRun, reportStages, reportSustained } from './bench/report-escalations.ts';
import { BenchResultsSchema, buildResults, machine, machineAtStart, RATIO_NAMES, reportRatios, type RatioName } from './bench/results.ts';
import { runSlackBench, type SlackBenchResult } from './bench/slack-escalations.ts';
import { startSlackStack } from './bench/slack-stack.ts';
import { runSustainedRate, type SustainedResult } from './bench/sustained-rate.ts';
import './support/provided-context.ts';

// The benchmark's results writer, fed with real (tiny) runs of the escalation benches against
// the test run's Postgres and Redis: the stage run (api and worker processes, phase by phase),
// the whole-run Slack bench and one sustained-rate step. Asserts what the figures are and how
// they add up, never how fast anything was.

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'countersign-bench-results-'));
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

const noRatios = Object.fromEntries(RATIO_NAMES.map((n) => [n, { value: null, says: 'not measured here' }])) as Record<RatioName, { value: number | null; says: string }>;

describe('bench results', () => {
  it('tiny real escalation runs become a table whose every figure is in results.json, ratios included', async () => {
    const postgresUrl = inject('databaseAdminUrl');
    const redisUrl = inject('redisUrl');
    const start = machineAtStart();
    const stages: StageBenchResult = await runStageBench({ postgresUrl, redisUrl, workDir: work, count: 6, warmup: 2, idleMs: 500 });
    const slack: SlackBenchResult = await runSlackBench({ postgresUrl, redisUrl, workDir: work, count: 5, channels: 5, ratePerSecond: 5, warmup: 3 });
    const stack = await startSlackStack({ postgresUrl, redisUrl, workDir: work, name: 'steps', channels: 8, roles: ['all'] });
    let sustained: SustainedResult;
    try {
      sustained = await runSustainedRate(stack, redisUrl, { rates: [4], stepSeconds: 1, minPerStep: 4, maxPerStep: 4, thresholdMs: 1000, warmup: 1 });
    } finally {
      await stack.stop();
    }

    // The runs themselves: every escalation went through, and the stage table adds up.
    expect(stages.count).toBe(6);
    expect(stages.stages.map((s) => s.key)).toEqual(STAGES.map((s) => s.key));
    expect(stages.stages.reduce((sum, s) => sum + s.micros, 0) + stages.otherMicros).toBeCloseTo(stages.sumMicros, 6);
    for (const phase of Object.values(stages.phases)) expect(phase.seconds).toBeGreaterThan(0);
    expect(slack.failures).toBe(0);
    expect(slack.memory.rssBytes).toBeGreaterThan(0);
    expect(slack.memory.peakRssBytes).toBeGreaterThanOrEqual(slack.memory.rssBytes);
    expect(slack.cpuSeconds.service).toBeGreaterThan(0);
    // The warm run: the same process after the first run and the warm-up, measured alike.
    expect(slack.warm).toMatchObject({ after: 8, failures: 0, limits: { answered429: 0 } });
    expect(slack.warmError).toBeUndefined();
    expect(slack.warm!.cpuSeconds.service).toBeGreaterThan(0);
    expect(slack.warm!.releaseMs.p50).toBeGreaterThan(0);
    expect(sustained.steps).toHaveLength(1);
    expect(sustained.steps[0]).toMatchObject({ rate: 4, count: 4, failures: 0 });

    const r = new Report();
    reportSlackRun(r, slack);
    reportStages(r, stages);
    reportSustained(r, 'sustained', sustained);
    reportRatios(r, { ...noRatios, click_p95_over_auto_p99: { value: slack.releaseMs.p95 / 10, says: 'against a made-up 10 ms' } });
    const results = buildResults(machine(start), r.figures);

    expect(BenchResultsSchema.parse(JSON.parse(JSON.stringify(results)))).toEqual(results);
    const value = (name: string) => results.figures.find((f) => f.name === name)?.value;
    expect(value('escalations.count')).toBe(5);
    expect(value('escalations.failures')).toBe(0);
    expect(value('stages.count')).toBe(6);
    expect(value('stages.sum')).toBe(Math.round(stages.sumMicros));
    for (const s of STAGES) expect(results.figures.find((f) => f.name === `stages.${s.key}`)?.unit).toBe('µs/escalation');
    expect(value('escalations.service_rss')).toBe(Math.round(slack.memory.rssBytes / 2 ** 20));
    expect(value('escalations.warm.after')).toBe(8);
    expect(value('escalations.warm.cpu.service')).toBe(Number(((slack.warm!.cpuSeconds.service * 1000) / 5).toFixed(2)));
    expect(value('sustained.step_4.count')).toBe(4);
    // The service's CPU per escalation at each step: its cores over the step's time, per escalation.
    const step = sustained.steps[0]!;
    expect(value('sustained.step_4.service_cpu')).toBe(Number(((step.serviceCores * step.seconds * 1000) / step.count).toFixed(1)));
    expect(value('sustained.step_4.service_cpu')).toBeGreaterThan(0);
    expect(results.ratios.click_p95_over_auto_p99).toBe(Number((slack.releaseMs.p95 / 10).toFixed(3)));
    expect(results.ratios.scaleout_auto).toBeNull();
    // Every number printed is a figure: as many figures as printed values in the table.
    const printed = r.lines.join('\n');
    for (const f of results.figures.filter((f) => f.value !== null)) expect(printed).toContain(String(f.value));
    expect(results.machine.cpus).toBe(os.cpus().length);
    expect(results.machine.ed25519).toBe('libsodium');
  }, 240_000);

  it('refuses a report that lacks a ratio, or records one figure twice', () => {
    const start = machineAtStart();
    const r = new Report();
    r.fig('auto_decide.throughput', 1500, 'req/s');
    expect(() => r.fig('auto_decide.throughput', 1600, 'req/s')).toThrow(/recorded twice/);
    expect(() => buildResults(machine(start), r.figures)).toThrow(/ratios\.gate_over_floor/);
    reportRatios(r, noRatios);
    const results = buildResults(machine(start), r.figures);
    expect(Object.keys(results.ratios).sort()).toEqual([...RATIO_NAMES].sort());
    expect(() => BenchResultsSchema.parse({ ...results, figures: [...results.figures, results.figures[0]] })).toThrow(/unique/);
    expect(() => BenchResultsSchema.parse({ ...results, ratios: { ...results.ratios, extra: 1 } })).toThrow();
  });
});
