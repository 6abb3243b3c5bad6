import { DeliveryError, type DecisionDelivery } from '@countersign/core';
import { giveUp, type JobContext } from '@countersign/queue';
import type { WorkerDeps } from '../deps.ts';

/**
 * Hands a final decision to the registered DecisionDelivery (webhooks, held execution) and
 * sorts its failures: DeliveryError retryable=false gives up, anything else is retried with
 * the job's backoff (which honours `retryAfterMs`).
 */
export async function runDelivery(
  deps: WorkerDeps,
  job: JobContext,
  actionId: string,
  what: 'webhook' | 'execution',
  call: (d: DecisionDelivery) => Promise<void>,
): Promise<void> {
  const delivery = deps.deliveries();
  if (!delivery) {
    deps.logger.info({ actionId, what }, 'no decision delivery registered; nothing sent');
    return;
  }
  try {
    await call(delivery);
  } catch (err) {
    if (err instanceof DeliveryError && !err.retryable) {
      deps.logger.error({ actionId, what, code: err.code, err: err.message }, 'delivery refused for good; not retrying');
      throw giveUp(`${what} for ${actionId}: ${err.code}: ${err.message}`);
    }
    deps.logger.warn({ actionId, what, attempt: job.attempt, err: (err as Error).message }, 'delivery failed; will retry');
    throw err;
  }
}
