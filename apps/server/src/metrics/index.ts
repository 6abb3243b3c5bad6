import type { Logger } from 'pino';
import { Registry } from 'prom-client';
import type { Clock, GateObserver } from '@countersign/core';
import type { Repositories } from '@countersign/db';
import type { ServiceContext } from '@countersign/modules';
import { workerEngine } from '@countersign/worker';
import { backlogGauges, type BacklogSource } from './backlog-gauges.ts';
import { cardPostCounter, countCardPosts, type CardPostCounter } from './card-posts.ts';
import { configReloadCounter, type ConfigReloadCounter } from './config-reloads.ts';
import { countDeliveries, deliveryCounter } from './deliveries.ts';
import { gateMetrics } from './gate-metrics.ts';
import { queueGauges } from './queue-gauges.ts';

export { ruleLabel } from './gate-metrics.ts';
export { QUEUE_JOB_STATES } from './queue-gauges.ts';

// One registry per service (served at /metrics, handed to modules as ctx.metrics): the engine's
// observer, the backlog and queue gauges read at scrape time, channels' card posts, config
// reloads, webhook and execution deliveries. Modules add their own families to the same
// registry (the worker's job counters).

export interface ServiceMetrics {
  registry: Registry;
  /** Give it to the Gate (deps.observer) and the store (observeStore). */
  observer: GateObserver;
  configReloads: ConfigReloadCounter;
  cardPosts: CardPostCounter;
  /** The repositories modules are handed (ctx.db): delivery attempts are counted as they are recorded. */
  repositories(db: Repositories): Repositories;
  /** Once every module has registered: counts the channels' card posts and reads the worker's queues. */
  instrument(ctx: ServiceContext): void;
}

export function serviceMetrics(opts: { logger: Logger; clock: Clock; backlog: BacklogSource; registry?: Registry }): ServiceMetrics {
  const registry = opts.registry ?? new Registry();
  const logger = opts.logger;
  backlogGauges(registry, opts.backlog, opts.clock, logger);
  const cardPosts = cardPostCounter(registry);
  const deliveries = deliveryCounter(registry);
  return {
    registry,
    observer: gateMetrics(registry, logger),
    configReloads: configReloadCounter(registry),
    cardPosts,
    repositories: (db) => countDeliveries(db, deliveries),
    instrument(ctx) {
      countCardPosts(ctx.channels, cardPosts);
      queueGauges(registry, () => workerEngine(ctx)?.queues, logger);
    },
  };
}
