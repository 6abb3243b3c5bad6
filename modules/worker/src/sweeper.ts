import type { ActionRecord } from '@countersign/core';
import type { PgOutboxStore } from '@countersign/db';
import type { JobRequest } from '@countersign/queue';
import type { WorkerDeps } from './deps.ts';
import type { OutboxDispatcher } from './outbox/dispatcher.ts';
import { timersFor } from './timers.ts';

export interface SweepReport {
  /** Jobs re-created because Redis no longer knew them. */
  rebuilt: number;
  /**
   * First-tier card jobs enqueued because Redis knows neither the job nor the note its first
   * attempt leaves when it ran in the dispatcher (outbox/first-attempts.ts): Redis lost its
   * data, or the attempt's note did not get written. A check that posts only what is missing.
   */
  rechecked: number;
  /** Delayed jobs run now because the service clock says they are due. */
  promoted: number;
  /** Overdue actions expired directly. */
  expired: number;
  /** Outbox events a dispatcher had left behind. */
  staleEvents: number;
}

/** Undispatched events older than this were missed by every dispatcher. */
const STALE_EVENT_SECONDS = 30;
const PAGE = 200;

/**
 * Postgres is the system of record, Redis only holds the timers: the sweeper puts Redis back
 * in line with Postgres. For every pending action it makes sure the first card job, the
 * expiry, the tiers, the future reminders and the latest reminder due exist (adding with the
 * same job id is a no-op when present), runs those whose time has come by the service clock, expires overdue actions
 * itself, and re-dispatches outbox events left behind. Runs at start and every N seconds; one
 * process at a time does the work (a Redis lease), the others skip that round.
 */
export class Sweeper {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> | undefined;
  private stopped = false;

  constructor(
    private readonly deps: WorkerDeps,
    private readonly outbox: PgOutboxStore,
    private readonly dispatcher: OutboxDispatcher,
    private readonly everyMs: number,
  ) {}

  start(): void {
    const round = () => {
      if (this.stopped || this.running) return;
      this.running = this.sweepIfFirst()
        .catch((err: Error) => this.deps.logger.error({ err: err.message }, 'sweep failed; next round retries'))
        .finally(() => (this.running = undefined));
    };
    this.timer = setInterval(round, this.everyMs);
    this.timer.unref();
    round();
  }

  private async sweepIfFirst(): Promise<SweepReport | undefined> {
    const r = await this.deps.mutex.withLock('sweeper', Math.max(this.everyMs, 10_000), () => this.sweep());
    return r.ran ? r.value : undefined;
  }

  /** One full round (also callable directly, e.g. by tests or an operator). */
  async sweep(): Promise<SweepReport> {
    const report: SweepReport = { rebuilt: 0, rechecked: 0, promoted: 0, expired: 0, staleEvents: 0 };
    report.staleEvents = await this.outbox.staleCount(STALE_EVENT_SECONDS);
    if (report.staleEvents > 0) {
      this.deps.logger.warn({ events: report.staleEvents }, 'outbox events left undispatched; dispatching them');
      await this.dispatcher.drainNow();
    }
    let after: string | null = null;
    for (;;) {
      if (this.stopped) break;
      const page: ActionRecord[] = await this.outbox.pendingActions(after, PAGE);
      for (const action of page) await this.ensureJobs(action, report);
      if (page.length < PAGE) break;
      after = page[page.length - 1]!.id;
    }
    report.expired = await this.deps.gate.expireOverdue();
    this.deps.metrics.sweeps.inc();
    if (report.expired) this.deps.metrics.sweptExpired.inc(report.expired);
    if (report.rebuilt || report.promoted || report.expired) this.deps.logger.info({ ...report }, 'sweep repaired queue state');
    return report;
  }

  private async ensureJobs(action: ActionRecord, report: SweepReport): Promise<void> {
    const now = this.deps.clock.now();
    const timers = timersFor(action);
    const lastDueReminder = timers.filter((w) => w.name === 'remind' && w.dueAt.getTime() <= now.getTime()).sort((a, b) => a.dueAt.getTime() - b.dueAt.getTime()).at(-1);
    const wanted: (JobRequest & { dueAt: Date })[] = [
      // Idempotent against ChannelCard rows: re-running it posts only what is missing.
      { name: 'post-cards', payload: { actionId: action.id, tier: 0 }, dueAt: action.createdAt },
      ...timers,
    ];
    for (const w of wanted) {
      const due = w.dueAt.getTime() <= now.getTime();
      const job = await this.deps.queues.find(w.name, w.payload);
      // A first card job that ran in the dispatcher left a note instead of a completed job.
      if (!job && w.name === 'post-cards' && (await this.deps.queues.ranOutside(w.name, w.payload))) continue;
      if (!job) {
        // A reminder Redis lost is rebuilt even once its time has passed (it fell due while
        // Redis was empty): its rows in Postgres tell which cards it reached already, and those
        // are not nudged again. Of several due at once, only the latest: one nudge, not a burst.
        if (w.name === 'remind' && due && w !== lastDueReminder) continue;
        await this.deps.queues.enqueue(w.name, w.payload, { delayMs: Math.max(0, w.dueAt.getTime() - now.getTime()) });
        if (w.name === 'post-cards') {
          report.rechecked++;
          continue;
        }
        this.deps.metrics.timersRebuilt.inc({ job: w.name });
        report.rebuilt++;
      } else if (due && w.name !== 'post-cards' && (await job.isDelayed())) {
        // Redis counts delays in its own time; the service clock says this timer is due now.
        // It may have started meanwhile: only a job still delayed makes a failed promote an error.
        await job.promote().catch(async (err: Error) => {
          if (await job.isDelayed()) throw err;
        });
        this.deps.metrics.timersRebuilt.inc({ job: w.name });
        report.promoted++;
      }
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await this.running;
  }
}
