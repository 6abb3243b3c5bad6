import { GateEventSchema } from '@countersign/contracts';
import type { ActionRecord, Clock } from '@countersign/core';
import type { OutboxEventRecord, OutboxListener, PgOutboxStore } from '@countersign/db';
import { inCarriedTrace, SpanKind, type JobQueues } from '@countersign/queue';
import type { Logger } from 'pino';
import type { WorkerMetrics } from '../metrics.ts';
import { jobsForEvent, timersToCancel } from './event-jobs.ts';
import { FIRST_ATTEMPT_HERE, type FirstAttempts } from './first-attempts.ts';

export interface DispatcherDeps {
  outbox: PgOutboxStore;
  queues: JobQueues;
  clock: Clock;
  logger: Logger;
  metrics: WorkerMetrics;
  /** Events claimed per transaction. */
  batchSize: number;
  /** Fallback poll interval. */
  pollMs: number;
  /** LISTEN countersign_outbox; without it the dispatcher only polls. */
  listen?: (onEvent: () => void) => OutboxListener;
  /** Runs card jobs' first attempts here (first-attempts.ts); without it every job is enqueued. */
  firstAttempts?: FirstAttempts;
  /**
   * Rounds whose claim may stay open while their first attempts run (default 1). Each holds a
   * pooled connection in a transaction; a new round starts meanwhile (new events need not wait
   * on a slow chat call) until this many are open, then waits for the oldest.
   */
  openRounds?: number;
}

/** How long stop() waits for first attempts still running (as the queue workers' close does for jobs). */
const STOP_GRACE_MS = 10_000;

interface Round {
  /** How many events the round claimed, once its jobs are enqueued and its first attempts started. */
  claimed: Promise<number>;
}

/**
 * Turns committed outbox events into queue jobs (and card jobs' first attempts). Woken by NOTIFY
 * (through the listener) and by a fallback poll; one round claims at a time within a process,
 * a few may wait on their first attempts meanwhile, and across processes SKIP LOCKED hands each
 * event to one dispatcher at a time.
 */
export class OutboxDispatcher {
  private running: Promise<void> | undefined;
  private readonly open = new Set<Promise<void>>();
  private again = false;
  private stopped = false;
  private poll: NodeJS.Timeout | undefined;
  private listener: OutboxListener | undefined;

  constructor(private readonly deps: DispatcherDeps) {}

  async start(): Promise<void> {
    this.poll = setInterval(() => this.kick(), this.deps.pollMs);
    this.poll.unref();
    if (this.deps.listen) {
      this.listener = this.deps.listen(() => this.kick());
      // A listener that cannot connect now retries on its own; polling covers the meantime.
      await this.listener.start().catch((err: Error) => this.deps.logger.warn({ err: err.message }, 'outbox LISTEN unavailable; polling only'));
    }
    this.kick();
  }

  /** Asks for a dispatch round; coalesces with one already running. */
  kick(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.drain().finally(() => {
      this.running = undefined;
      if (this.again && !this.stopped) {
        this.again = false;
        this.kick();
      }
    });
  }

  /** Dispatches until nothing is left, first attempts included (used by the sweeper and tests). */
  async drainNow(): Promise<void> {
    await this.settled();
    this.kick();
    await this.settled();
  }

  /** No round claiming and none open. */
  private async settled(): Promise<void> {
    while (this.running || this.open.size > 0) {
      if (this.running) await this.running;
      await Promise.all(this.open);
    }
  }

  private async drain(): Promise<void> {
    try {
      for (;;) {
        this.again = false;
        // The oldest open round must end before another transaction opens.
        while (this.open.size >= (this.deps.openRounds ?? 1)) await Promise.race(this.open);
        if (this.stopped) return;
        const round = this.startRound();
        const claimed = await round.claimed;
        if (claimed < this.deps.batchSize && !this.again) return;
        if (this.stopped) return;
      }
    } catch (err) {
      this.roundFailed(err);
    }
  }

  // Nothing of the round was marked: the next round (notification or poll) tries its events again.
  private roundFailed(err: unknown): void {
    this.deps.metrics.outboxErrors.inc();
    this.deps.logger.warn({ err: (err as Error).message }, 'outbox dispatch failed; will retry');
  }

  private startRound(): Round {
    let claimedYet = false;
    let onClaimed: (n: number) => void = () => undefined;
    const claimed = new Promise<number>((resolve) => {
      onClaimed = (n) => {
        claimedYet = true;
        resolve(n);
      };
    });
    const result = this.deps.outbox.dispatchBatch(this.deps.batchSize, (events, actions) => this.dispatchEvents(events, actions, onClaimed));
    const finished = result.then((r) => {
      onClaimed(r.claimed);
      if (r.dispatched) this.deps.metrics.outboxDispatched.inc(r.dispatched);
    });
    // Once claimed, the round's failure is its own (reported here); before, the drain reports it.
    const open = finished.catch((err: unknown) => {
      if (claimedYet) this.roundFailed(err);
    });
    this.open.add(open);
    void open.finally(() => this.open.delete(open));
    return { claimed: Promise.race([claimed, finished.then(() => claimed)]) };
  }

  /**
   * Enqueues the batch's jobs and runs card jobs' first attempts; `onStarted` is told as soon as
   * the enqueues are done and the attempts started (the next round may begin), and the ids
   * returned (to be marked) only once every first attempt ended or went to the queue.
   */
  private async dispatchEvents(events: OutboxEventRecord[], actions: Map<string, ActionRecord>, onStarted: (claimed: number) => void): Promise<string[]> {
    const handled: string[] = [];
    const now = this.deps.clock.now();
    // Every event's jobs are added at once (no event waits on another's round trips); an
    // enqueue error still aborts the whole batch: nothing is marked, all is retried, and the
    // deterministic job ids make what did get added a no-op then.
    const adds: Promise<unknown>[] = [];
    const attempts: Promise<void>[] = [];
    const here = this.deps.firstAttempts;
    for (const row of events) {
      const parsed = GateEventSchema.safeParse(row.payload);
      const action = actions.get(row.actionId);
      if (!parsed.success || !action) {
        // Retrying cannot fix a malformed event or one whose action does not exist; leaving it
        // undispatched would block the batch forever. Marked, and reported loudly.
        this.deps.logger.error({ outboxEventId: row.id, type: row.type, actionId: row.actionId, reason: parsed.success ? 'no such action' : 'invalid payload' }, 'outbox event cannot be dispatched; skipped');
        handled.push(row.id);
        continue;
      }
      // An enqueue error (Redis down) aborts the batch: nothing is marked, all is retried.
      // In the trace of the change that wrote the event (the action's), so its jobs continue it.
      const attributes = { 'countersign.action_id': row.actionId, 'countersign.outbox.event': parsed.data.type, 'countersign.outbox.event_id': row.id };
      const jobs = jobsForEvent(parsed.data, row.id, action, now);
      const cancel = timersToCancel(parsed.data, action);
      const trace = parsed.data.trace;
      adds.push(
        inCarriedTrace(trace, 'countersign.outbox.dispatch', { kind: SpanKind.PRODUCER, attributes }, async () => {
          const queued = [];
          for (const job of jobs) {
            // Due now, a card job, and a free place here: its first attempt runs in this process.
            if (here && job.delayMs === 0 && FIRST_ATTEMPT_HERE.has(job.name) && here.reserve()) attempts.push(here.run(job, trace));
            else queued.push(job);
          }
          if (queued.length > 0) await this.deps.queues.enqueueMany(queued.map((job) => ({ name: job.name, payload: job.payload, opts: { delayMs: job.delayMs, ...(job.ref ? { ref: job.ref } : {}) } })));
          // Left in place they only cost a no-op run when due: a failure here is no reason to
          // dispatch the event again.
          if (cancel.length > 0) {
            await this.deps.queues.removeMany(cancel).catch((err: Error) => this.deps.logger.warn({ actionId: row.actionId, err: err.message }, "could not remove a decided action's timers; they run as no-ops when due"));
          }
        }),
      );
      handled.push(row.id);
    }
    // An attempt whose hand-over to the queue failed must not be marked: wait for all either way.
    const ended = Promise.allSettled(attempts);
    try {
      await Promise.all(adds);
    } catch (err) {
      // Redis is away: the round fails as a whole (its events stay undispatched), after its
      // first attempts ended, so they are not run a second time alongside by the next round.
      await ended;
      throw err;
    }
    onStarted(events.length);
    for (const e of await ended) if (e.status === 'rejected') throw e.reason;
    return handled;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.poll) clearInterval(this.poll);
    await this.listener?.close();
    await this.settled();
    // A first attempt past its deadline is in the queue as a backstop but still running here:
    // let it record what it sent, while the pool and Redis are still open.
    await this.deps.firstAttempts?.settle(STOP_GRACE_MS);
  }
}
