import type { JobHandler } from '@countersign/queue';
import type { WorkerDeps } from '../deps.ts';
import { runDelivery } from './deliver.ts';

/** Held execution of an approved action, through ctx.deliveries (which knows whether the rule names an executor). */
export function executeAction(deps: WorkerDeps): JobHandler<'execute-action'> {
  return ({ actionId }, job) => runDelivery(deps, job, actionId, 'execution', (d) => d.execute(actionId, job.attempt, { maxAttempts: job.maxAttempts }));
}
