import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { QUEUE_NAMES, type JobQueues } from '@countersign/queue';
import { scrapedGauge } from './registered.ts';
import { withTimeout } from './with-timeout.ts';

// BullMQ's job counts per queue, asked of Redis when Prometheus scrapes (getJobCounts: a few
// O(1) commands per queue). Reported by processes that run the queue engine (worker, all);
// an api-only process has no queues and exports the family without samples. Redis away: the
// samples are left out of that scrape (the dependency gauge says why), never reported as zero.

export const QUEUE_JOB_STATES = ['waiting', 'active', 'delayed', 'failed'] as const;

const COUNT_TIMEOUT_MS = 2_000;

/** `queues()` is asked at each scrape: the engine starts after the metrics are registered, and stops before them. */
export function queueGauges(registry: Registry, queues: () => JobQueues | undefined, logger: Logger): void {
  scrapedGauge(registry, 'countersign_queue_jobs', 'Queue jobs by queue (chat, timers, deliveries) and state (waiting, active, delayed, failed), from Redis at scrape time.', ['queue', 'state'], async (gauge) => {
    const current = queues();
    gauge.reset();
    if (!current) return;
    try {
      const counts = await withTimeout(Promise.all(QUEUE_NAMES.map(async (name) => [name, await current.queue(name).getJobCounts(...QUEUE_JOB_STATES)] as const)), COUNT_TIMEOUT_MS);
      for (const [queue, byState] of counts) {
        for (const state of QUEUE_JOB_STATES) gauge.set({ queue, state }, byState[state] ?? 0);
      }
    } catch (err) {
      gauge.reset();
      logger.warn({ err: (err as Error).message }, 'metrics: could not read queue job counts from Redis; left out');
    }
  });
}
