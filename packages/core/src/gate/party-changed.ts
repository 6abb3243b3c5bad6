import type { GateDeps } from './deps.ts';
import { expiryPatch, finalizeInTx, isPastExpiry } from './finalize.ts';

/**
 * Refuses a pending action one of whose parties is no longer in the directory as they were at
 * submission, found so before a channel could record their chat account (the queue's
 * `party_changed`). Nothing tells their renamed entry from a newcomer: under a new id and a new
 * mailbox she could approve her own request in the console or through the API (review s16 b, 1).
 * Refused, the request can be submitted again, bound to the directory as it is now. Only the
 * first caller past the row lock finds it pending. Returns whether this call closed it.
 */
export async function refuseChangedParty(deps: GateDeps, actionId: string, reason: string): Promise<boolean> {
  return deps.store.transaction(async (tx) => {
    const action = await tx.lockAction(actionId);
    if (!action || action.status !== 'pending') return false;
    const now = deps.clock.now();
    // Past its expiry it expired, whatever the queue found late (review s16 c, 4).
    await finalizeInTx(tx, action, isPastExpiry(action, now) ? expiryPatch(now) : { status: 'refused', at: now, decidedBy: 'system', reason });
    return true;
  });
}
