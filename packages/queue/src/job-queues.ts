import { Queue, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { BACKOFF_TYPE, JOBS, QUEUE_NAMES, type JobName, type JobPayload, type JobRequest, type QueueName } from './catalog.ts';
import { currentTraceContext, queueTelemetryOption } from './trace.ts';

/** A payload that does not match the catalog: a bug in the caller, never retried. */
export class InvalidJobPayload extends Error {
  constructor(
    readonly job: string,
    readonly issues: string[],
  ) {
    super(`invalid payload for job ${job}: ${issues.join('; ')}`);
    this.name = 'InvalidJobPayload';
  }
}

export interface EnqueueOptions {
  /** Run no sooner than this many milliseconds from now. */
  delayMs?: number;
  /** Tells apart two causes of the same job (see JobSpec.jobId). */
  ref?: string;
}

export interface JobQueuesOptions {
  /** ioredis connection for producing; the caller owns it and closes it after `close()`. */
  connection: Redis;
  /** Key prefix of every queue (COUNTERSIGN_QUEUE_PREFIX; tests use a random one). */
  prefix: string;
  /** Completed jobs stay this long, so re-adding the same id is a no-op meanwhile. */
  keepCompletedSeconds?: number;
  /** Failed jobs stay this long, for inspection (and the same dedupe). */
  keepFailedSeconds?: number;
}

const DAY = 24 * 3600;

export function issuesOf(error: { issues: { path: PropertyKey[]; message: string }[] }): string[] {
  return error.issues.map((i) => `${i.path.map(String).join('.') || '(payload)'}: ${i.message}`);
}

interface PreparedJob {
  queue: QueueName;
  name: JobName;
  data: unknown;
  opts: { jobId: string; attempts: number; backoff: { type: string; delay: number }; delay: number; removeOnComplete: { age: number }; removeOnFail: { age: number } };
}

/** The producing side: validates against the catalog and adds with the job's deterministic id. */
export class JobQueues {
  private readonly queues = new Map<QueueName, Queue>();

  constructor(private readonly opts: JobQueuesOptions) {
    for (const name of QUEUE_NAMES) this.queues.set(name, new Queue(name, { connection: opts.connection, prefix: opts.prefix, ...queueTelemetryOption() }));
  }

  get prefix(): string {
    return this.opts.prefix;
  }

  queue(name: QueueName): Queue {
    const q = this.queues.get(name);
    if (!q) throw new Error(`no queue ${name}`);
    return q;
  }

  /** The id `enqueue` would give this job (throws on an invalid payload). */
  jobId<N extends JobName>(name: N, payload: JobPayload<N>, ref?: string): string {
    const spec = JOBS[name];
    const parsed = spec.schema.safeParse(payload);
    if (!parsed.success) throw new InvalidJobPayload(name, issuesOf(parsed.error));
    return (spec.jobId as (p: unknown, ref?: string) => string)(parsed.data, ref);
  }

  /**
   * Adds the job unless one with the same id is still known to Redis (then nothing happens).
   * Returns the job id.
   */
  async enqueue<N extends JobName>(name: N, payload: JobPayload<N>, opts: EnqueueOptions = {}): Promise<string> {
    const job = this.prepare(name, payload, opts);
    // In the caller's context: BullMQ's producer span (when its telemetry is on) hangs there.
    await this.queue(job.queue).add(job.name, job.data, job.opts);
    return job.opts.jobId;
  }

  /**
   * Adds several jobs at once: one round trip per queue (BullMQ addBulk, a MULTI) instead of
   * one per job, each still with its deterministic id (a job Redis still knows is not added
   * again). Returns the job ids in order. All or nothing per queue.
   */
  async enqueueMany(requests: readonly { name: JobName; payload: JobPayload<JobName>; opts?: EnqueueOptions }[]): Promise<string[]> {
    const jobs = requests.map((r) => this.prepare(r.name, r.payload, r.opts ?? {}));
    const byQueue = new Map<QueueName, PreparedJob[]>();
    for (const job of jobs) byQueue.set(job.queue, [...(byQueue.get(job.queue) ?? []), job]);
    await Promise.all(
      [...byQueue].map(([queue, list]) =>
        list.length === 1 ? this.queue(queue).add(list[0]!.name, list[0]!.data, list[0]!.opts) : this.queue(queue).addBulk(list.map(({ name, data, opts }) => ({ name, data, opts }))),
      ),
    );
    return jobs.map((j) => j.opts.jobId);
  }

  /**
   * Removes jobs by the ids `enqueue` gives them, in whatever state Redis knows them, except a
   * job running right now (BullMQ leaves a locked job alone): it runs to its end. One script
   * per job, sent together.
   */
  async removeMany(requests: readonly JobRequest[]): Promise<void> {
    await Promise.all(requests.map((r) => this.queue(JOBS[r.name].queue).remove(this.jobId(r.name, r.payload), { removeChildren: false })));
  }

  /** Validates the payload, carries the current trace, and computes the job's id and options. */
  private prepare(name: JobName, payload: JobPayload<JobName>, opts: EnqueueOptions): PreparedJob {
    const spec = JOBS[name];
    // The job continues the trace it was enqueued in (nothing is added while tracing is off).
    const trace = payload.trace ?? currentTraceContext();
    const parsed = spec.schema.safeParse(trace ? { ...payload, trace } : payload);
    if (!parsed.success) throw new InvalidJobPayload(name, issuesOf(parsed.error));
    const jobId = (spec.jobId as (p: unknown, ref?: string) => string)(parsed.data, opts.ref);
    return {
      queue: spec.queue,
      name,
      data: parsed.data,
      opts: {
        jobId,
        attempts: spec.attempts,
        backoff: { type: BACKOFF_TYPE, delay: spec.backoff.baseMs },
        delay: Math.max(0, Math.round(opts.delayMs ?? 0)),
        removeOnComplete: { age: this.opts.keepCompletedSeconds ?? DAY },
        removeOnFail: { age: this.opts.keepFailedSeconds ?? 7 * DAY },
      },
    };
  }

  /**
   * Notes that this job's work was done outside the queue (its first attempt, run by the
   * dispatcher), for as long as the queue would keep it completed: `ranOutside` then says so,
   * as `find` would have found the completed job. Lost with Redis' data, like the job itself.
   */
  async noteRanOutside<N extends JobName>(name: N, payload: JobPayload<N>, ref?: string): Promise<void> {
    await this.opts.connection.set(this.outsideKey(name, payload, ref), '1', 'EX', this.opts.keepCompletedSeconds ?? DAY);
  }

  async ranOutside<N extends JobName>(name: N, payload: JobPayload<N>, ref?: string): Promise<boolean> {
    return (await this.opts.connection.exists(this.outsideKey(name, payload, ref))) === 1;
  }

  private outsideKey(name: JobName, payload: JobPayload<JobName>, ref?: string): string {
    return `${this.opts.prefix}:ran-outside:${this.jobId(name, payload, ref)}`;
  }

  /** The job with this name, payload and ref, if Redis still knows it. */
  async find<N extends JobName>(name: N, payload: JobPayload<N>, ref?: string): Promise<Job | undefined> {
    return this.queue(JOBS[name].queue).getJob(this.jobId(name, payload, ref));
  }

  async close(): Promise<void> {
    await Promise.all([...this.queues.values()].map((q) => q.close()));
  }
}
