import type { TraceContext } from '@countersign/contracts';
import { backoffDelay, inCarriedTrace, isUnrecoverable, JOBS, SpanKind, type DeferReason, type JobContext, type JobEvents, type JobHandler, type JobHandlers, type JobName, type JobQueues, type JobRequest } from '@countersign/queue';
import type { Logger } from 'pino';

// The first attempt of a card job runs in the process that dispatched its outbox event, not
// through BullMQ. On a small machine a BullMQ job costs about as much CPU as the card work in it
// (an add, a blocking pop, moveToActive, moveToFinished, each a Lua script and a wake-up); the
// first attempt usually succeeds, so only what needs a queue goes there: a retry after a
// failure, a deferral (pacing, Retry-After, a busy card lock), or a run that outlives the
// deadline. Those are enqueued with the job's deterministic id, as the dispatcher always did.
//
// Nothing is lost if this process dies mid-attempt: the dispatcher marks the event dispatched
// only once its first attempts ended or were handed to the queue, in the transaction that
// claimed it, so a crash rolls the claim back and any dispatcher runs the event again. Running
// twice is harmless: every card job is idempotent against Postgres and serialised per action
// by the card lock (BullMQ's own stalled-job recovery relies on the same).

/** The jobs whose first attempt the dispatching process runs itself. */
export const FIRST_ATTEMPT_HERE: ReadonlySet<JobName> = new Set<JobName>(['post-cards', 'update-cards']);

/** How long a dispatch round waits for a first attempt before handing it to the queue as well. */
export const FIRST_ATTEMPT_DEADLINE_MS = 2_000;

/**
 * A first attempt past the deadline goes on; the job handed to the queue then waits this long,
 * as a backstop should this process die meanwhile. When the attempt ends, the backstop is taken
 * back (done, or given up) or brought forward to the retry or deferral the attempt asked for.
 */
export const LATE_BACKSTOP_MS = 30_000;

/** `ctx.defer` of a first attempt: ends the run; the job goes to the queue after `ms`. */
class FirstAttemptDeferred extends Error {
  constructor(
    readonly ms: number,
    readonly reason: DeferReason,
  ) {
    super(`deferred (${reason})`);
    this.name = 'FirstAttemptDeferred';
  }
}

export interface FirstAttemptsDeps {
  handlers: JobHandlers;
  queues: JobQueues;
  /** The same counters the queue workers report to. */
  events: Pick<JobEvents, 'completed' | 'failed' | 'deferred'>;
  logger: Logger;
  /** First attempts running at once in this process; beyond it, jobs go to the queue. */
  concurrency: number;
  deadlineMs?: number;
}

type Ending = { kind: 'done' } | { kind: 'deferred'; ms: number; reason: DeferReason } | { kind: 'failed'; err: Error } | { kind: 'late' };

export class FirstAttempts {
  private running = 0;
  /** Attempts not ended yet, with what follows them (stop waits for these). */
  private readonly unfinished = new Set<Promise<unknown>>();

  constructor(private readonly deps: FirstAttemptsDeps) {}

  /** First attempts running now (for stop and tests). */
  get inFlight(): number {
    return this.running;
  }

  /**
   * Reserves a place for one first attempt: false when this process runs as many as it may
   * (the caller enqueues the job instead). A true must be followed by `run`.
   */
  reserve(): boolean {
    if (this.running >= this.deps.concurrency) return false;
    this.running += 1;
    return true;
  }

  /**
   * Runs the job's first attempt (in a place `reserve` gave) and resolves once it ended or the
   * queue has it: done, or enqueued for its retry, deferral or late finish. Rejects only when
   * that enqueue fails (Redis away): the caller must then not mark the event dispatched.
   */
  async run(job: JobRequest & { ref?: string }, trace: TraceContext | undefined): Promise<void> {
    const name = job.name;
    let jobId: string;
    try {
      jobId = this.deps.queues.jobId(name, job.payload, job.ref);
    } catch (err) {
      // A payload the catalog refuses is a bug; the place is given back, and the round fails.
      this.running -= 1;
      throw err;
    }
    const ctx: JobContext = {
      name,
      jobId,
      attempt: 1,
      maxAttempts: JOBS[name].attempts,
      defer: (ms, reason) => Promise.reject(new FirstAttemptDeferred(ms, reason)),
    };
    // The same span a queue worker opens around a run, under the dispatch that caused it.
    const attributes = { 'messaging.system': 'countersign', 'messaging.message.id': jobId, 'countersign.job.attempt': 1, 'countersign.job.first_attempt': true, 'countersign.action_id': job.payload.actionId };
    const ended: Promise<Ending> = inCarriedTrace(trace, `countersign.job ${name}`, { kind: SpanKind.CONSUMER, attributes, expected: (e) => e instanceof FirstAttemptDeferred, underActive: true }, () =>
      (this.deps.handlers[name] as JobHandler<JobName>)(job.payload, ctx),
    )
      .then(
        (): Ending => ({ kind: 'done' }),
        (err: unknown): Ending => (err instanceof FirstAttemptDeferred ? { kind: 'deferred', ms: err.ms, reason: err.reason } : { kind: 'failed', err: err as Error }),
      )
      .finally(() => {
        this.running -= 1;
      });
    this.track(ended);

    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<Ending>((resolve) => {
      timer = setTimeout(() => resolve({ kind: 'late' }), this.deps.deadlineMs ?? FIRST_ATTEMPT_DEADLINE_MS);
    });
    const first = await Promise.race([ended, late]);
    clearTimeout(timer);

    if (first.kind === 'late') {
      // A slow chat service: the queue takes the job as a backstop, so the event can be marked
      // and the round's transaction closed; when this attempt ends, the backstop follows it.
      this.deps.logger.warn({ job: name, jobId }, 'first attempt still running at the deadline; the queue holds the job as a backstop');
      await this.enqueue(job, LATE_BACKSTOP_MS);
      this.track(ended.then((e) => this.afterLate(job, jobId, e)));
      return;
    }
    await this.ended(job, jobId, first);
  }

  /** Waits up to `graceMs` for first attempts still running (and what follows them): stop(). */
  async settle(graceMs: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs)));
    await Promise.race([Promise.allSettled([...this.unfinished]), late]);
    clearTimeout(timer);
  }

  private track(p: Promise<unknown>): void {
    const tracked = p.catch((err: Error) => this.deps.logger.warn({ err: err.message }, 'after a first attempt'));
    this.unfinished.add(tracked);
    void tracked.finally(() => this.unfinished.delete(tracked));
  }

  /** Counts the attempt, and queues what it left to do: a retry after a failure, or a deferral. */
  private async ended(job: JobRequest & { ref?: string }, jobId: string, e: Ending): Promise<void> {
    this.count(job.name, jobId, e);
    if (e.kind === 'done') {
      // What a completed job in Redis would tell the sweeper (it looks for the first card job).
      if (job.name === 'post-cards') await this.deps.queues.noteRanOutside(job.name, job.payload, job.ref).catch(() => undefined);
    } else if (e.kind === 'deferred') await this.enqueue(job, e.ms);
    else if (e.kind === 'failed' && !isUnrecoverable(e.err)) await this.enqueue(job, backoffDelay(JOBS[job.name].backoff, 1, e.err));
  }

  /**
   * A late attempt ended: its backstop, still waiting in the queue, is taken back when nothing is
   * left to do, or brought forward to what the attempt asked for. A backstop already running
   * (this process was slower than the backstop's wait) or gone is left as it is.
   */
  private async afterLate(job: JobRequest & { ref?: string }, jobId: string, e: Ending): Promise<void> {
    this.count(job.name, jobId, e);
    const backstop = await this.deps.queues.queue(JOBS[job.name].queue).getJob(jobId);
    if (!backstop || !(await backstop.isDelayed())) return;
    if (e.kind === 'done' || (e.kind === 'failed' && isUnrecoverable(e.err))) {
      if (e.kind === 'done' && job.name === 'post-cards') await this.deps.queues.noteRanOutside(job.name, job.payload, job.ref);
      await backstop.remove();
      return;
    }
    const waitMs = e.kind === 'deferred' ? e.ms : e.kind === 'failed' ? backoffDelay(JOBS[job.name].backoff, 1, e.err) : 0;
    if (waitMs > 0) await backstop.changeDelay(waitMs);
    else await backstop.promote();
  }

  private count(name: JobName, jobId: string, e: Ending): void {
    if (e.kind === 'done') this.deps.events.completed?.(name);
    else if (e.kind === 'deferred') this.deps.events.deferred?.(name, e.reason);
    else if (e.kind === 'failed') this.deps.events.failed?.(name, e.err, isUnrecoverable(e.err), jobId);
  }

  /** The job in the queue, with its own full set of attempts, after `delayMs`. */
  private async enqueue(job: JobRequest & { ref?: string }, delayMs: number): Promise<void> {
    await this.deps.queues.enqueue(job.name, job.payload, { delayMs, ...(job.ref ? { ref: job.ref } : {}) });
  }
}
