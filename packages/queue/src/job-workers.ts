import { DelayedError, UnrecoverableError, Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { BACKOFF_TYPE, JOBS, QUEUE_NAMES, backoffDelay, isJobName, jobsOn, type JobName, type JobPayload, type QueueName } from './catalog.ts';
import { issuesOf } from './job-queues.ts';
import { inCarriedTrace, queueTelemetryOption, SpanKind } from './trace.ts';

/** What a processor gets besides its (validated) payload. */
export interface JobContext {
  name: JobName;
  jobId: string;
  /** 1 on the first try. Deferrals (below) do not count. */
  attempt: number;
  maxAttempts: number;
  /**
   * Puts the job back for `ms` without spending an attempt (pacing, Retry-After, a busy
   * lock) and ends this run. Always `return job.defer(…)` / `await` it: it throws.
   */
  defer(ms: number, reason: DeferReason): Promise<never>;
}

export type DeferReason = 'pacing' | 'rate_limited' | 'busy' | 'not_due';

export type JobHandler<N extends JobName> = (payload: JobPayload<N>, ctx: JobContext) => Promise<void>;
export type JobHandlers = { [N in JobName]: JobHandler<N> };

export interface JobEvents {
  completed?(name: string): void;
  /** `final`: no attempt left, or given up on purpose (UnrecoverableError). */
  failed?(name: string, err: Error, final: boolean, jobId: string | undefined): void;
  deferred?(name: string, reason: DeferReason): void;
  stalled?(jobId: string): void;
  error?(err: Error): void;
}

export interface JobWorkersOptions {
  /** ioredis connection with maxRetriesPerRequest null (BullMQ duplicates it for blocking reads). */
  connection: Redis;
  prefix: string;
  handlers: JobHandlers;
  /** Jobs run at once per queue, per process. */
  concurrency: number;
  events?: JobEvents;
  /**
   * A job deferred more often than this fails like an ordinary error instead (spending an
   * attempt), so a channel that never stops answering 429 cannot keep a job alive forever.
   */
  maxDeferrals?: number;
  /** How long a worker may go without renewing a job's lock before others consider it stalled (JOB_LOCK_MS). */
  lockDurationMs?: number;
  /** How often stalled jobs are looked for (STALLED_CHECK_MS). */
  stalledIntervalMs?: number;
}

// How fast a job whose worker died (kill -9, OOM, a lost node) runs on another worker. BullMQ
// keeps a lock on every running job, renewed while it runs (the lock manager renews locks
// older than a quarter of lockDuration, checking every quarter); a stalled check (every
// stalledInterval, by whichever worker gets there first) marks the running jobs, and at the
// next check moves those whose lock is gone back to waiting. A dead worker's job therefore
// runs elsewhere within about JOB_LOCK_MS + STALLED_CHECK_MS (BullMQ's defaults, 30 s + 30 s,
// made it up to a minute). The price of a short lock is a false stall when a worker's event
// loop is blocked for several seconds: the job then runs twice at once, which every processor
// tolerates (Postgres claims, the card lock); MAX_STALLS keeps such a job from failing for good
// on its first false stall, while a job that kills its worker every time still ends.

/** BullMQ lockDuration: a running job's lock, renewed every ~1.25–2.5 s while it runs. */
export const JOB_LOCK_MS = 5_000;
/** BullMQ stalledInterval: how often a worker looks for jobs whose worker stopped renewing. */
export const STALLED_CHECK_MS = 2_000;
/** BullMQ maxStalledCount: stalls a job may survive before it fails. */
export const MAX_STALLS = 3;

export function isUnrecoverable(err: unknown): boolean {
  return err instanceof UnrecoverableError || (err as Error | undefined)?.name === 'UnrecoverableError';
}

function isDeferral(err: unknown): boolean {
  return err instanceof DelayedError;
}

/** Ends the job for good: no retry, counted as a final failure. */
export function giveUp(message: string): UnrecoverableError {
  return new UnrecoverableError(message);
}

export interface JobWorkers {
  workers: Worker[];
  /** Waits for running jobs up to `graceMs`, then closes regardless. */
  close(graceMs?: number): Promise<void>;
}

/** One BullMQ worker per queue; each validates the payload against the catalog before the handler sees it. */
export function startJobWorkers(opts: JobWorkersOptions): JobWorkers {
  const maxDeferrals = opts.maxDeferrals ?? 500;
  const workers = QUEUE_NAMES.map((queue: QueueName) => {
    const names = new Set<string>(jobsOn(queue));
    const worker = new Worker(
      queue,
      async (job: Job, token?: string) => {
        if (!isJobName(job.name) || !names.has(job.name)) throw new UnrecoverableError(`unknown job ${job.name} on queue ${queue}`);
        const name = job.name;
        const spec = JOBS[name];
        const parsed = spec.schema.safeParse(job.data);
        // A bad payload is a bug; retrying it would only fail again.
        if (!parsed.success) throw new UnrecoverableError(`invalid payload for job ${name}: ${issuesOf(parsed.error).join('; ')}`);
        const ctx: JobContext = {
          name,
          jobId: job.id ?? '',
          attempt: job.attemptsMade + 1,
          maxAttempts: job.opts.attempts ?? spec.attempts,
          async defer(ms, reason) {
            const deferrals = job.attemptsStarted - job.attemptsMade - 1;
            if (deferrals >= maxDeferrals) throw new Error(`job ${name} deferred ${deferrals} times (${reason}); counting it as a failed attempt`);
            await job.moveToDelayed(Date.now() + Math.max(1, Math.round(ms)), token);
            opts.events?.deferred?.(name, reason);
            throw new DelayedError();
          },
        };
        // One span per run, in the trace the job was enqueued in; a deferral is not a failure.
        const attributes = { 'messaging.system': 'bullmq', 'messaging.destination.name': queue, 'messaging.message.id': ctx.jobId, 'countersign.job.attempt': ctx.attempt, 'countersign.action_id': parsed.data.actionId };
        await inCarriedTrace(parsed.data.trace, `countersign.job ${name}`, { kind: SpanKind.CONSUMER, attributes, expected: isDeferral, underActive: true }, () =>
          (opts.handlers[name] as JobHandler<JobName>)(parsed.data as JobPayload<JobName>, ctx),
        );
      },
      {
        connection: opts.connection,
        prefix: opts.prefix,
        concurrency: opts.concurrency,
        lockDuration: opts.lockDurationMs ?? JOB_LOCK_MS,
        stalledInterval: opts.stalledIntervalMs ?? STALLED_CHECK_MS,
        maxStalledCount: MAX_STALLS,
        ...queueTelemetryOption(),
        settings: {
          backoffStrategy: (attemptsMade: number, type?: string, err?: Error, job?: { name: string }) => {
            const spec = job && isJobName(job.name) ? JOBS[job.name] : undefined;
            if (type !== BACKOFF_TYPE || !spec) return 1_000;
            return backoffDelay(spec.backoff, attemptsMade, err);
          },
        },
      },
    );
    worker.on('completed', (job) => opts.events?.completed?.(job.name));
    worker.on('failed', (job, err) => {
      if (!job) return;
      const final = isUnrecoverable(err) || job.attemptsMade >= (job.opts.attempts ?? 1);
      opts.events?.failed?.(job.name, err, final, job.id);
    });
    worker.on('stalled', (jobId) => opts.events?.stalled?.(jobId));
    // Without a listener an 'error' event would crash the process; BullMQ reconnects itself.
    worker.on('error', (err) => opts.events?.error?.(err));
    return worker;
  });

  return {
    workers,
    async close(graceMs = 10_000) {
      await Promise.all(
        workers.map(async (w) => {
          let timer: NodeJS.Timeout | undefined;
          const graceful = w.close().then(() => true);
          const late = new Promise<boolean>((done) => {
            timer = setTimeout(() => done(false), graceMs);
          });
          const inTime = await Promise.race([graceful, late]);
          if (timer) clearTimeout(timer);
          // A job stuck in a channel call must not hold the process; BullMQ retries it elsewhere.
          if (!inTime) await w.close(true);
        }),
      );
    },
  };
}
