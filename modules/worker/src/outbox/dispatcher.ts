import { GateEventSchema } from '@countersign/contracts';
import type { ActionRecord, Clock } from '@countersign/core';
import type { OutboxEventRecord, OutboxListener, PgOutboxStore } from '@countersign/db';
import { inCarriedTrace, SpanKind, type JobQueues } from '@countersign/queue';
import type { Logger } from 'pino';
import type { WorkerMetrics } from '../metrics.ts';
import { jobsForEvent } from './event-jobs.ts';

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
}

/**
 * Turns committed outbox events into queue jobs. Woken by NOTIFY (through the listener) and by
 * a fallback poll; rounds never overlap within a process, and across processes SKIP LOCKED
 * hands each event to one dispatcher at a time.
 */
export class OutboxDispatcher {
  private running: Promise<void> | undefined;
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

  /** Dispatches until nothing is left (used by the sweeper and tests). */
  async drainNow(): Promise<void> {
    while (this.running) await this.running;
    this.kick();
    while (this.running) await this.running;
  }

  private async drain(): Promise<void> {
    try {
      for (;;) {
        this.again = false;
        const { claimed } = await this.dispatchOnce();
        if (claimed < this.deps.batchSize && !this.again) return;
        if (this.stopped) return;
      }
    } catch (err) {
      // Nothing was marked: the next round (notification or poll) tries these events again.
      this.deps.metrics.outboxErrors.inc();
      this.deps.logger.warn({ err: (err as Error).message }, 'outbox dispatch failed; will retry');
    }
  }

  /** One transaction: claim a batch, enqueue its jobs, mark the batch dispatched. */
  async dispatchOnce(): Promise<{ claimed: number; dispatched: number }> {
    const result = await this.deps.outbox.dispatchBatch(this.deps.batchSize, (events, actions) => this.enqueueAll(events, actions));
    if (result.dispatched) this.deps.metrics.outboxDispatched.inc(result.dispatched);
    return result;
  }

  private async enqueueAll(events: OutboxEventRecord[], actions: Map<string, ActionRecord>): Promise<string[]> {
    const handled: string[] = [];
    const now = this.deps.clock.now();
    // Every event's jobs are added at once (no event waits on another's round trips); an
    // enqueue error still aborts the whole batch: nothing is marked, all is retried, and the
    // deterministic job ids make what did get added a no-op then.
    const adds: Promise<unknown>[] = [];
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
      adds.push(
        inCarriedTrace(parsed.data.trace, 'countersign.outbox.dispatch', { kind: SpanKind.PRODUCER, attributes }, () =>
          this.deps.queues.enqueueMany(jobs.map((job) => ({ name: job.name, payload: job.payload, opts: { delayMs: job.delayMs, ...(job.ref ? { ref: job.ref } : {}) } }))),
        ),
      );
      handled.push(row.id);
    }
    await Promise.all(adds);
    return handled;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.poll) clearInterval(this.poll);
    await this.listener?.close();
    await this.running;
  }
}
