import { DomainError } from '@countersign/contracts';
import type { ActionRecord } from '../action.ts';
import type { Caller } from '../keys/key-service.ts';
import type { GateDeps } from './deps.ts';
import { expiryPatch, finalizeInTx, isPastExpiry } from './finalize.ts';

/** The requester withdraws a pending action. Any other state (cancelled included) is `already_decided`. */
export async function cancelAction(deps: GateDeps, actionId: string, caller: Caller, reason: string | null): Promise<ActionRecord> {
  const result = await deps.store.transaction(async (tx) => {
    const action = await tx.lockAction(actionId);
    if (!action) return new DomainError('not_found', `No action ${actionId}.`);
    if (!(await tx.isKeyActive(caller.keyId))) return new DomainError('unauthenticated', 'This API key has been revoked.');
    if (action.actorId !== caller.principal.id) {
      return new DomainError('forbidden', 'Only the principal that submitted this action may cancel it.');
    }
    // A second cancel answers like a second vote: the action is already decided (cancelled).
    if (action.status === 'expired') {
      return new DomainError('expired', 'This request had already expired.', { extra: { actionStatus: 'expired' } });
    }
    if (action.status !== 'pending') {
      return new DomainError('already_decided', `This action is already ${action.status}.`, { extra: { actionStatus: action.status } });
    }
    const now = deps.clock.now();
    if (isPastExpiry(action, now)) {
      await finalizeInTx(tx, action, expiryPatch(now));
      return new DomainError('expired', 'This request had already expired.', { extra: { actionStatus: 'expired' } });
    }
    await finalizeInTx(tx, action, { status: 'cancelled', at: now, decidedBy: caller.principal.id, reason: reason ?? 'withdrawn by the requester' });
    return action;
  });
  if (result instanceof DomainError) throw result;
  return result;
}
