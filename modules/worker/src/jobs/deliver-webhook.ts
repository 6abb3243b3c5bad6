import type { JobHandler } from '@countersign/queue';
import type { WorkerDeps } from '../deps.ts';
import { runDelivery } from './deliver.ts';

/** POSTs the final decision to the intent's callbackUrl, through ctx.deliveries. */
export function deliverWebhook(deps: WorkerDeps): JobHandler<'deliver-webhook'> {
  return ({ actionId }, job) => runDelivery(deps, job, actionId, 'webhook', (d) => d.deliverWebhook(actionId, job.attempt, { maxAttempts: job.maxAttempts }));
}
