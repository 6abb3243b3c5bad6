import { ChannelError } from '@countersign/core';
import { giveUp, retryAfterOf, type JobContext } from '@countersign/queue';
import type { WorkerDeps } from '../deps.ts';

/**
 * What happened across the targets of one job, and how the job ends: failures are sorted into
 * "retry later" and "give up" per target, every target gets its chance in this run, and then
 * the job is deferred (pacing, Retry-After), retried (spending an attempt) or failed for good.
 */
export class TargetOutcomes {
  private pacedMs: number | undefined;
  private rateLimitedMs: number | undefined;
  private retryError: Error | undefined;
  private busy = false;
  private readonly unrecoverable: string[] = [];

  constructor(
    private readonly deps: WorkerDeps,
    private readonly job: JobContext,
    private readonly actionId: string,
  ) {}

  /** The pacer said wait `ms` before this target. */
  paced(ms: number): void {
    this.pacedMs = this.pacedMs === undefined ? ms : Math.min(this.pacedMs, ms);
  }

  /** Another job holds this target's claim right now. */
  heldElsewhere(): void {
    this.busy = true;
  }

  /** Sorts a failed channel call; returns whether retrying could help. */
  failed(channel: string, target: string, err: unknown): { retryable: boolean; reason: string } {
    const e = err as Error;
    if (err instanceof ChannelError) {
      this.deps.metrics.channelErrors.inc({ channel, code: err.code, retryable: String(err.retryable) });
      if (!err.retryable) {
        this.deps.logger.error({ job: this.job.name, actionId: this.actionId, channel, target, code: err.code, err: err.message }, 'channel refused for good; not retrying');
        this.unrecoverable.push(`${channel} ${target}: ${err.code}`);
        return { retryable: false, reason: `${err.code}: ${err.message}` };
      }
    }
    const retryAfter = retryAfterOf(err);
    if (retryAfter !== undefined) this.rateLimitedMs = Math.max(this.rateLimitedMs ?? 0, retryAfter);
    else this.retryError ??= e;
    this.deps.logger.warn(
      { job: this.job.name, actionId: this.actionId, channel, target, code: err instanceof ChannelError ? err.code : undefined, err: e.message, retryAfterMs: retryAfter },
      'channel call failed; will retry',
    );
    return { retryable: true, reason: err instanceof ChannelError ? `${err.code}: ${err.message}` : e.message };
  }

  /** Something here wants another run (pacing, Retry-After, a retryable failure, a target held elsewhere). */
  get unfinished(): boolean {
    return this.rateLimitedMs !== undefined || this.retryError !== undefined || this.pacedMs !== undefined || this.busy;
  }

  /** How long another run should wait at least (pacing, Retry-After), 0 when nothing asked. */
  get waitMs(): number {
    return Math.max(this.rateLimitedMs ?? 0, this.pacedMs ?? 0);
  }

  /** Ends the job: defer, retry or give up; returns normally when everything went through. */
  async settle(): Promise<void> {
    // Honour the server's Retry-After without spending an attempt.
    if (this.rateLimitedMs !== undefined) await this.job.defer(this.rateLimitedMs, 'rate_limited');
    if (this.retryError) throw this.retryError;
    if (this.pacedMs !== undefined) await this.job.defer(this.pacedMs, 'pacing');
    if (this.busy) await this.job.defer(1_000, 'busy');
    if (this.unrecoverable.length > 0) throw giveUp(`${this.job.name} ${this.actionId}: ${this.unrecoverable.join('; ')}`);
  }
}
