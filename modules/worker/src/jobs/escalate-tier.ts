import type { JobHandler } from '@countersign/queue';
import type { WorkerDeps } from '../deps.ts';

/** A tier's time has come: if nobody has decided yet, ask that tier's channels and people too. */
export function escalateTier(deps: WorkerDeps): JobHandler<'escalate-tier'> {
  return async ({ actionId, tier }) => {
    const action = await deps.store.findAction(actionId);
    if (!action || action.status !== 'pending' || !action.requirement) return;
    if (tier > action.requirement.channels.tiers.length) {
      deps.logger.warn({ actionId, tier }, 'escalation tier the requirement does not have; ignored');
      return;
    }
    await deps.queues.enqueue('post-cards', { actionId, tier });
  };
}
