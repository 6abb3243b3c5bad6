import { randomBytes } from 'node:crypto';
import type { JobContext } from '@countersign/queue';
import { CARD_LOCK_MS, type WorkerDeps } from '../deps.ts';

/** The held card lock, as the work under it sees it. */
export interface CardLease {
  /** Makes sure the lease has most of its length left (before each slow step); false once it has been lost. */
  renew(): Promise<boolean>;
  /** True once the lease ran out under us: another job may have rendered cards meanwhile. */
  readonly lost: boolean;
}

/** What `fn` returned, and whether the lease held from start to release. */
export interface CardLockRun<T> {
  value: T;
  /** False when the lease ran out at some point: another job may have rendered cards meanwhile. */
  heldToEnd: boolean;
}

/**
 * Runs `fn` holding the action's card lock, or defers the job a moment when another job
 * holds it (then null). Posting and updating never interleave for one action, and each reads
 * the action inside the lock: whatever runs last renders the latest state, so a card never
 * ends up showing an older state than Postgres (last write wins, and the last write is the
 * newest).
 *
 * The lease is short (a crashed worker must not block an action's cards for long), so it is
 * renewed while `fn` runs: every third of the lease, and by `fn` itself before each target.
 * A post-cards run with several slow targets would otherwise outlive it and let update-cards
 * render alongside, leaving the card posted last with stale buttons. Releasing tells whether
 * the lease was still ours, so a run learns whether it held throughout without asking Redis
 * once more.
 */
export async function withCardLock<T>(deps: WorkerDeps, actionId: string, job: JobContext, fn: (lease: CardLease) => Promise<T>): Promise<CardLockRun<T> | null> {
  const name = `cards:${actionId}`;
  const ttlMs = deps.cardLockMs ?? CARD_LOCK_MS;
  const taking = Date.now();
  const token = await deps.mutex.tryAcquire(name, ttlMs);
  if (!token) {
    await job.defer(100 + Math.floor(Math.random() * 200), 'busy');
    return null;
  }
  const renewEvery = Math.max(20, Math.floor(ttlMs / 3));
  // When the lease last started (as asked, not as answered): ours for `ttlMs` from then.
  let confirmedAt = taking;
  let lost = false;
  const extend = async (): Promise<boolean> => {
    if (lost) return false;
    const asked = Date.now();
    if (await deps.mutex.extend(name, token, ttlMs)) {
      confirmedAt = asked;
    } else {
      lost = true;
      deps.logger.warn({ job: job.name, actionId }, 'card lock lease ran out while rendering; cards are re-rendered from the latest state afterwards');
    }
    return !lost;
  };
  // Confirmed less than a third of the lease ago, it has two thirds left, as after a renewal
  // that the heartbeat would make anyway: a Redis round trip saved on the usual one-target run.
  // A lease lost meanwhile all the same (Redis lost its data) shows at the release.
  const renew = async (): Promise<boolean> => (lost ? false : Date.now() - confirmedAt < renewEvery ? true : extend());
  const heartbeat = setInterval(() => {
    // A Redis hiccup here is not fatal: the next renewal (or the release) tells.
    extend().catch((err: Error) => deps.logger.warn({ job: job.name, actionId, err: err.message }, 'could not renew the card lock'));
  }, renewEvery);
  heartbeat.unref();
  let ran: { value: T } | { err: unknown };
  try {
    ran = {
      value: await fn({
        renew,
        get lost() {
          return lost;
        },
      }),
    };
  } catch (err) {
    ran = { err };
  }
  clearInterval(heartbeat);
  // Released whatever fn did. A release that fails (Redis unreachable just then) leaves the
  // lease to run out by itself, and it is not known to have held: the caller takes it as lost
  // and re-renders. fn's own error wins (a giveUp must not become a retry).
  let stillOurs = false;
  try {
    stillOurs = await deps.mutex.release(name, token);
  } catch (err) {
    deps.logger.warn({ job: job.name, actionId, err: (err as Error).message }, 'could not release the card lock; it runs out by itself');
  }
  if ('err' in ran) throw ran.err;
  return { value: ran.value, heldToEnd: !lost && stillOurs };
}

/**
 * Renders the action's cards once more, from the state then current, in a job of its own (a
 * fresh ref: never deduplicated against one that already ran). For a run that may have
 * rendered an older state last: its lease ran out, so another run may have rendered meanwhile.
 */
export async function rerenderCards(deps: WorkerDeps, actionId: string): Promise<void> {
  await deps.queues.enqueue('update-cards', { actionId }, { ref: `rerender-${Date.now()}-${randomBytes(3).toString('hex')}` });
}
