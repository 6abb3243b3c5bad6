import type { GateDeps } from './deps.ts';
import { expiryPatch, finalizeInTx, isPastExpiry } from './finalize.ts';

/**
 * Closes a pending action whose expiry has passed (fail closed). Safe to call from anywhere,
 * any number of times: only the first caller past the row lock finds it pending.
 */
export async function expireIfDue(deps: GateDeps, actionId: string): Promise<boolean> {
  return deps.store.transaction(async (tx) => {
    const action = await tx.lockAction(actionId);
    const now = deps.clock.now();
    if (!action || !isPastExpiry(action, now)) return false;
    await finalizeInTx(tx, action, expiryPatch(now));
    return true;
  });
}

/** Expires every overdue pending action; used by timers and the sweeper. */
export async function expireOverdue(deps: GateDeps, limit = 500): Promise<number> {
  const ids = await deps.store.dueForExpiry(deps.clock.now(), limit);
  let n = 0;
  for (const id of ids) if (await expireIfDue(deps, id)) n++;
  return n;
}
