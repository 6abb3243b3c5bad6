import type { Percentiles } from './escalation-flow.ts';
import type { Phase, StageBenchResult } from './escalation-stages.ts';
import type { Report } from './report.ts';
import type { SlackBenchResult } from './slack-escalations.ts';
import type { SustainedResult } from './sustained-rate.ts';

// Rows of the bench table for escalations: the 25/s Slack run, CPU by stage, sustained rates.

const MiB = 1024 * 1024;

function pcts(r: Report, key: string, p: Percentiles): string {
  return `p50 ${r.fig(`${key}.p50`, p.p50, 'ms', 0)}   p95 ${r.fig(`${key}.p95`, p.p95, 'ms', 0)}   p99 ${r.fig(`${key}.p99`, p.p99, 'ms', 0)}   max ${r.fig(`${key}.max`, p.max, 'ms', 0)}`;
}

export function reportSlackRun(r: Report, s: SlackBenchResult): void {
  const k = 'escalations';
  r.line(
    `slack: ${r.fig(`${k}.count`, s.count, 'count', 0)} escalations over ${r.fig(`${k}.channels`, s.channels, 'count', 0)} channels at ${r.fig(`${k}.offered_rate`, s.ratePerSecond, 'escalations/s', 0)} ` +
      `(${r.fig(`${k}.seconds`, s.seconds, 's', 1)}, ${r.fig(`${k}.failures`, s.failures, 'count', 0)} failed)`,
  );
  r.line(`  POST /v1/actions → card posted        ${pcts(r, `${k}.card`, s.cardMs)}`);
  r.line(`  deciding click → long-poll returns    ${pcts(r, `${k}.release`, s.releaseMs)}`);
  const b = s.cardBreakdown;
  if (b) {
    r.line(
      `    of which: to enqueued p50 ${r.fig(`${k}.card.to_enqueued.p50`, b.dispatchMs.p50, 'ms', 0)} / p95 ${r.fig(`${k}.card.to_enqueued.p95`, b.dispatchMs.p95, 'ms', 0)}; ` +
        `queue wait p50 ${r.fig(`${k}.card.queue_wait.p50`, b.queueWaitMs.p50, 'ms', 0)} / p95 ${r.fig(`${k}.card.queue_wait.p95`, b.queueWaitMs.p95, 'ms', 0)}; ` +
        `post-cards job p50 ${r.fig(`${k}.card.job.p50`, b.jobMs.p50, 'ms', 0)} / p95 ${r.fig(`${k}.card.job.p95`, b.jobMs.p95, 'ms', 0)}`,
    );
  }
  r.line(
    `  per-channel limit: queue paces ${r.fig(`${k}.pacing`, s.rateLimit.pacingMs, 'ms', 0)}/channel; max ${r.fig(`${k}.max_posts_per_channel_second`, s.rateLimit.maxPostsPerChannelPerSecond, 'count', 0)} post(s) per channel in any 1 s; ` +
      `fake Slack answered ${r.fig(`${k}.answered_429`, s.rateLimit.answered429, 'count', 0)} × 429`,
  );
  const per = (sec: number | undefined) => (sec === undefined ? undefined : (sec * 1000) / Math.max(1, s.count));
  const share = (sec: number | undefined) => (sec === undefined ? undefined : (sec / s.cpuWindowSeconds) * 100);
  r.line(
    `  CPU per escalation (first submission → last release, ${r.fig(`${k}.cpu.window`, s.cpuWindowSeconds, 's', 1)}): ` +
      `service ${r.fig(`${k}.cpu.service`, per(s.cpuSeconds.service), 'ms/escalation', 2)} (${r.fig(`${k}.cpu.service.core_share`, share(s.cpuSeconds.service), '%', 0)} of a core); ` +
      `beside it postgres ${r.fig(`${k}.cpu.postgres`, per(s.cpuSeconds.postgres), 'ms/escalation', 2)}, redis ${r.fig(`${k}.cpu.redis`, per(s.cpuSeconds.redis), 'ms/escalation', 2)}, ` +
      `bench process (fake Slack, agents, reviewer) ${r.fig(`${k}.cpu.bench`, per(s.cpuSeconds.bench), 'ms/escalation', 2)}`,
  );
  const c = s.cpuSeconds;
  const others = c.machine - c.service - (c.postgres ?? 0) - (c.redis ?? 0) - c.bench;
  r.line(
    `  the machine meanwhile: ${r.fig(`${k}.cpu.machine_cores`, c.machine / s.cpuWindowSeconds, 'cores', 2)} busy, ` +
      `of which ${r.fig(`${k}.cpu.other_work_cores`, others / s.cpuWindowSeconds, 'cores', 2)} other work than this bench's processes`,
  );
  r.line(`  service memory after the run: RSS ${r.fig(`${k}.service_rss`, s.memory.rssBytes / MiB, 'MiB', 0)} (peak ${r.fig(`${k}.service_peak_rss`, s.memory.peakRssBytes / MiB, 'MiB', 0)})   (target < 300 MiB)`);
  const w = s.warm;
  if (!w) {
    if (s.warmError) r.line(`  the same run again, warm: not measured (${s.warmError})`);
    return;
  }
  const wk = `${k}.warm`;
  const wper = (sec: number | undefined) => (sec === undefined ? undefined : (sec * 1000) / Math.max(1, s.count));
  r.line(
    `  the same run again, warm (the same process after ${r.fig(`${wk}.after`, w.after, 'count', 0)} escalations; ${r.fig(`${wk}.failures`, w.failures, 'count', 0)} failed):`,
  );
  r.line(`    POST /v1/actions → card posted      ${pcts(r, `${wk}.card`, w.cardMs)}`);
  r.line(`    deciding click → long-poll returns  ${pcts(r, `${wk}.release`, w.releaseMs)}`);
  r.line(
    `    CPU per escalation (${r.fig(`${wk}.cpu.window`, w.cpuWindowSeconds, 's', 1)}): service ${r.fig(`${wk}.cpu.service`, wper(w.cpuSeconds.service), 'ms/escalation', 2)} ` +
      `(${r.fig(`${wk}.cpu.service.over_cold`, s.cpuSeconds.service > 0 ? w.cpuSeconds.service / s.cpuSeconds.service : undefined, 'ratio', 2)} of the first run's); ` +
      `beside it postgres ${r.fig(`${wk}.cpu.postgres`, wper(w.cpuSeconds.postgres), 'ms/escalation', 2)}, redis ${r.fig(`${wk}.cpu.redis`, wper(w.cpuSeconds.redis), 'ms/escalation', 2)}, ` +
      `bench process ${r.fig(`${wk}.cpu.bench`, wper(w.cpuSeconds.bench), 'ms/escalation', 2)}; the machine ${r.fig(`${wk}.cpu.machine_cores`, w.cpuSeconds.machine / w.cpuWindowSeconds, 'cores', 2)} busy`,
  );
  r.line(
    `    per-channel limit: fake Slack answered ${r.fig(`${wk}.warm_up.answered_429`, w.warmUpLimits.answered429, 'count', 0)} × 429 in the warm-up (max ${r.fig(`${wk}.warm_up.max_posts_per_channel_second`, w.warmUpLimits.maxPostsPerChannelPerSecond, 'count', 0)} post(s) per channel in any 1 s), ` +
      `${r.fig(`${wk}.answered_429`, w.limits.answered429, 'count', 0)} in the warm run (max ${r.fig(`${wk}.max_posts_per_channel_second`, w.limits.maxPostsPerChannelPerSecond, 'count', 0)})`,
  );
  r.line(
    `    service memory after it: RSS ${r.fig(`${wk}.service_rss`, w.memory.rssBytes / MiB, 'MiB', 0)} (peak over the process's life ${r.fig(`${wk}.service_peak_rss`, w.memory.peakRssBytes / MiB, 'MiB', 0)})   (target < 300 MiB)`,
  );
}

export function reportStages(r: Report, s: StageBenchResult): void {
  const k = 'stages';
  const idle = (p: 'api' | 'worker' | 'postgres' | 'redis') => r.fig(`${k}.idle.${p}`, s.idle.rate[p] === undefined ? undefined : s.idle.rate[p]! * 100, '%', 1);
  r.line(
    `CPU by stage: ${r.fig(`${k}.count`, s.count, 'count', 0)} escalations through an api process and a worker process, phase by phase; ` +
      `idle CPU subtracted (api ${idle('api')}, worker ${idle('worker')}, postgres ${idle('postgres')}, redis ${idle('redis')} of a core)`,
  );
  r.line(`  ${'stage'.padEnd(36)} ${'process'.padEnd(8)} µs per escalation`);
  for (const st of s.stages) r.line(`  ${st.label.padEnd(36)} ${st.process.padEnd(8)} ${r.fig(`${k}.${st.key}`, st.micros, 'µs/escalation', 0).padStart(18)}`);
  r.line(`  ${'other (api in b, worker in c)'.padEnd(36)} ${'both'.padEnd(8)} ${r.fig(`${k}.other`, s.otherMicros, 'µs/escalation', 0).padStart(18)}`);
  r.line(`  ${'sum: the service'.padEnd(36)} ${''.padEnd(8)} ${r.fig(`${k}.sum`, s.sumMicros, 'µs/escalation', 0).padStart(18)}`);
  const phaseNames: Record<Phase, string> = { submit: 'a submit', cards: 'b cards', wait: 'c long-polls', clicks: 'd clicks' };
  // Type-only import above: the stage bench imports this file when run on its own.
  const PHASES = Object.keys(phaseNames) as Phase[];
  const per = (sec: number | undefined) => (sec === undefined ? undefined : (sec * 1e6) / s.count);
  r.line(
    `  phases: ${PHASES.map((p) => `${phaseNames[p]} ${r.fig(`${k}.phase.${p}.seconds`, s.phases[p].seconds, 's', 2)}`).join(', ')}`,
  );
  const calls = PHASES.filter((p) => Object.keys(s.slackCalls[p]).length > 0).map(
    (p) => `${phaseNames[p]}: ${Object.entries(s.slackCalls[p]).map(([m, x]) => `${m} ${r.fig(`${k}.phase.${p}.slack.${m}`, x, 'calls/escalation', 2)}`).join(', ')}`,
  );
  r.line(`  Slack calls per escalation: ${calls.join('; ') || 'none'}`);
  r.line(
    `  beside it, postgres: ${PHASES.map((p) => `${p} ${r.fig(`${k}.phase.${p}.postgres`, per(s.phases[p].netSeconds.postgres), 'µs/escalation', 0)}`).join(', ')}; ` +
      `redis: ${PHASES.map((p) => `${p} ${r.fig(`${k}.phase.${p}.redis`, per(s.phases[p].netSeconds.redis), 'µs/escalation', 0)}`).join(', ')}`,
  );
}

export function reportSustained(r: Report, key: string, s: SustainedResult): void {
  r.line(
    `sustained escalation rate, ${s.processes} (${r.fig(`${key}.channels`, s.channels, 'count', 0)} channels): ` +
      `${r.fig(`${key}.rate`, s.sustainedPerSecond, 'escalations/s', 0)}, the highest step with p95 request → card < ${r.fig(`${key}.threshold`, s.thresholdMs, 'ms', 0)}`,
  );
  for (const st of s.steps) {
    const sk = `${key}.step_${st.rate}`;
    r.line(
      `  ${`${st.rate}/s`.padStart(6)}: offered ${r.fig(`${sk}.offered`, st.offeredPerSecond, 'escalations/s', 1)} × ${r.fig(`${sk}.count`, st.count, 'count', 0)}; ` +
        `card p50 ${r.fig(`${sk}.card.p50`, st.cardMs.p50, 'ms', 0)} p95 ${r.fig(`${sk}.card.p95`, st.cardMs.p95, 'ms', 0)}; ` +
        `release p95 ${r.fig(`${sk}.release.p95`, st.releaseMs.p95, 'ms', 0)}; ${r.fig(`${sk}.failures`, st.failures, 'count', 0)} failed; ` +
        `service ${r.fig(`${sk}.service_cores`, st.serviceCores, 'cores', 2)}, ${r.fig(`${sk}.service_cpu`, (st.serviceCores * st.seconds * 1000) / st.count, 'ms/escalation', 1)} ` +
        `(machine ${r.fig(`${sk}.machine_cores`, st.machineCores, 'cores', 2)}); ${st.passed ? 'pass' : 'FAIL (stop)'}`,
    );
  }
}
