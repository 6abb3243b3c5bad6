import type { JobHandler } from '@countersign/queue';
import type { WorkerDeps } from '../deps.ts';

/**
 * Expiry refuses the action (fail closed) through the engine, which writes the artifact and
 * emits action.decided: the cards are then updated and the requester told like any decision.
 */
export function expire(deps: WorkerDeps): JobHandler<'expire'> {
  return async ({ actionId }, job) => {
    if (await deps.gate.expireIfDue(actionId)) {
      deps.logger.info({ actionId }, 'action expired');
      return;
    }
    const action = await deps.store.findAction(actionId);
    // Still pending but not yet due by the service clock (Redis and the clock disagree):
    // come back when it is. Decided actions need nothing.
    if (action?.status === 'pending' && action.expiresAt) {
      const wait = action.expiresAt.getTime() - deps.clock.now().getTime();
      if (wait > 0) await job.defer(wait, 'not_due');
    }
  };
}
