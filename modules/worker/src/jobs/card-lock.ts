import type { JobContext } from '@countersign/queue';
import { CARD_LOCK_MS, type WorkerDeps } from '../deps.ts';

/** The held card lock, as the work under it sees it. */
export interface CardLease {
  /** Extends the lease from now (before each slow step); false once it has been lost. */
  renew(): Promise<boolean>;
  /** True once the lease ran out under us: another job may have rendered cards meanwhile. */
  readonly lost: boolean;
}

/**
 * Runs `fn` holding the action's card lock, or defers the job a moment when another job
 * holds it. Posting and updating never interleave for one action, and each reads the action
 * inside the lock: whatever runs last renders the latest state, so a card never ends up
 * showing an older state than Postgres (last write wins, and the last write is the newest).
 *
 * The lease is short (a crashed worker must not block an action's cards for long), so it is
 * renewed while `fn` runs: every third of the lease, and by `fn` itself before each target.
 * A post-cards run with several slow targets would otherwise outlive it and let update-cards
 * render alongside, leaving the card posted last with stale buttons.
 */
export async function withCardLock(deps: WorkerDeps, actionId: string, job: JobContext, fn: (lease: CardLease) => Promise<void>): Promise<void> {
  const name = `cards:${actionId}`;
  const ttlMs = deps.cardLockMs ?? CARD_LOCK_MS;
  const token = await deps.mutex.tryAcquire(name, ttlMs);
  if (!token) return void (await job.defer(100 + Math.floor(Math.random() * 200), 'busy'));

  let lost = false;
  const renew = async (): Promise<boolean> => {
    if (lost) return false;
    if (!(await deps.mutex.extend(name, token, ttlMs))) {
      lost = true;
      deps.logger.warn({ job: job.name, actionId }, 'card lock lease ran out while rendering; cards are re-rendered from the latest state afterwards');
    }
    return !lost;
  };
  const heartbeat = setInterval(() => {
    // A Redis hiccup here is not fatal: the next renewal (or the explicit one) tells.
    renew().catch((err: Error) => deps.logger.warn({ job: job.name, actionId, err: err.message }, 'could not renew the card lock'));
  }, Math.max(20, Math.floor(ttlMs / 3)));
  heartbeat.unref();
  try {
    await fn({
      renew,
      get lost() {
        return lost;
      },
    });
  } finally {
    clearInterval(heartbeat);
    await deps.mutex.release(name, token);
  }
}
