import type { JobContext } from '@countersign/queue';
import { CARD_LOCK_MS, type WorkerDeps } from '../deps.ts';

/**
 * Runs `fn` holding the action's card lock, or defers the job a moment when another job
 * holds it. Posting and updating never interleave for one action, and each reads the action
 * inside the lock: whatever runs last renders the latest state, so a card never ends up
 * showing an older state than Postgres (last write wins, and the last write is the newest).
 */
export async function withCardLock(deps: WorkerDeps, actionId: string, job: JobContext, fn: () => Promise<void>): Promise<void> {
  const result = await deps.mutex.withLock(`cards:${actionId}`, CARD_LOCK_MS, fn);
  if (!result.ran) await job.defer(100 + Math.floor(Math.random() * 200), 'busy');
}
