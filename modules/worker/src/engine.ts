import { OutboxListener } from '@countersign/db';
import type { ServiceContext } from '@countersign/modules';
import { JobQueues, Pacer, RedisMutex, startJobWorkers, type JobEvents, type JobWorkers } from '@countersign/queue';
import type { Redis } from 'ioredis';
import type { WorkerDeps } from './deps.ts';
import { jobHandlers } from './jobs/index.ts';
import { workerMetrics, type WorkerMetrics } from './metrics.ts';
import { OutboxDispatcher } from './outbox/dispatcher.ts';
import { FirstAttempts, type FirstAttemptsDeps } from './outbox/first-attempts.ts';
import { channelPacing } from './pacing.ts';
import type { WorkerSettings } from './settings.ts';
import { Sweeper } from './sweeper.ts';

/** A running queue engine: what the worker role adds to a process. */
export interface WorkerEngine {
  settings: WorkerSettings;
  deps: WorkerDeps;
  queues: JobQueues;
  dispatcher: OutboxDispatcher;
  sweeper: Sweeper;
  workers: JobWorkers;
  metrics: WorkerMetrics;
  stop(): Promise<void>;
}

const OUTBOX_BATCH = 50;

/**
 * First attempts and the dispatch transactions that wait on them share the database pool with
 * the API: at most half of it for attempts and a sixth for open rounds, the rest left to the
 * API. A pool too small for that (under 6) runs every card job through the queue, as a round
 * waiting on an attempt that waits for the round's connection would only end at the deadline.
 */
function firstAttemptsFor(settings: WorkerSettings, deps: Omit<FirstAttemptsDeps, 'concurrency'>): { firstAttempts?: FirstAttempts; openRounds: number } {
  const pool = settings.COUNTERSIGN_DB_POOL;
  if (pool < 6) return { openRounds: 1 };
  const concurrency = Math.min(settings.COUNTERSIGN_WORKER_CONCURRENCY, Math.floor(pool / 2));
  return { firstAttempts: new FirstAttempts({ ...deps, concurrency }), openRounds: Math.min(3, Math.floor(pool / 6)) };
}

/** Starts queues, workers, the outbox dispatcher and the sweeper on the service's resources. */
export async function startWorkerEngine(ctx: ServiceContext, settings: WorkerSettings): Promise<WorkerEngine> {
  const logger = ctx.logger.child({ module: 'worker' });
  const stops: (() => Promise<unknown>)[] = [];
  const stop = async () => {
    for (const s of stops.reverse()) await s();
  };
  try {
    // Producing fails fast when Redis is away (the outbox keeps the work meanwhile); consuming
    // waits for Redis to come back, as BullMQ requires of worker connections.
    const producer = ctx.redis.duplicate({ lazyConnect: true, maxRetriesPerRequest: 1, enableOfflineQueue: false });
    const consumer = ctx.redis.duplicate({ lazyConnect: true, maxRetriesPerRequest: null, enableOfflineQueue: true });
    for (const c of [producer, consumer] as Redis[]) {
      c.on('error', (err: Error) => logger.warn({ err: err.message }, 'queue redis connection problem'));
      await c.connect();
      stops.push(() => c.quit().catch(() => c.disconnect()));
    }
    const prefix = settings.COUNTERSIGN_QUEUE_PREFIX;
    const queues = new JobQueues({ connection: producer, prefix });
    stops.push(() => queues.close());
    const metrics = workerMetrics(ctx.metrics);
    const pacing = channelPacing(ctx.channelCatalog, settings);
    const deps: WorkerDeps = {
      gate: ctx.gate,
      store: ctx.store,
      config: ctx.config,
      clock: ctx.clock,
      logger,
      cards: ctx.db.cards,
      channels: ctx.channels,
      queues,
      pacer: new Pacer(ctx.redis, prefix, pacing.intervals),
      pacedUpdates: pacing.pacedUpdates,
      mutex: new RedisMutex(ctx.redis, prefix),
      metrics,
      deliveries: () => ctx.deliveries,
    };
    if (ctx.channels.size === 0) logger.warn('no chat channel registered: escalations get no cards (API votes still work)');

    const handlers = jobHandlers(deps);
    const events: JobEvents = {
      completed: (job) => metrics.jobsCompleted.inc({ job }),
      failed: (job, err, final, jobId) => {
        metrics.jobsFailed.inc({ job, final: String(final) });
        if (final) logger.error({ job, jobId, err: err.message }, 'job failed for good');
      },
      deferred: (job, reason) => metrics.jobsDeferred.inc({ job, reason }),
      stalled: (jobId) => logger.warn({ jobId }, 'job stalled (its worker stopped answering); BullMQ runs it again'),
      error: (err) => logger.warn({ err: err.message }, 'queue worker error'),
    };
    const workers = startJobWorkers({ connection: consumer, prefix, concurrency: settings.COUNTERSIGN_WORKER_CONCURRENCY, handlers, events });
    stops.push(() => workers.close());

    const databaseUrl = ctx.databaseUrl ?? ctx.env.DATABASE_URL;
    if (!databaseUrl) logger.warn('no database URL for LISTEN; the outbox dispatcher polls only');
    const outbox = ctx.db.outbox;
    const dispatcher = new OutboxDispatcher({
      outbox,
      queues,
      clock: ctx.clock,
      logger,
      metrics,
      batchSize: OUTBOX_BATCH,
      pollMs: settings.COUNTERSIGN_OUTBOX_POLL_MS,
      ...firstAttemptsFor(settings, { handlers, queues, events, logger }),
      ...(databaseUrl ? { listen: (onEvent: () => void) => new OutboxListener(databaseUrl, onEvent, logger) } : {}),
    });
    await dispatcher.start();
    stops.push(() => dispatcher.stop());

    const sweeper = new Sweeper(deps, outbox, dispatcher, settings.COUNTERSIGN_SWEEP_SECONDS * 1000);
    sweeper.start();
    stops.push(() => sweeper.stop());

    logger.info({ prefix, concurrency: settings.COUNTERSIGN_WORKER_CONCURRENCY, channels: [...ctx.channels.keys()] }, 'queue engine started');
    return { settings, deps, queues, dispatcher, sweeper, workers, metrics, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
