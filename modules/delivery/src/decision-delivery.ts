import type { DecisionDelivery, DeliveryInfo } from '@countersign/core';
import { deliverWebhook } from './deliver-webhook.ts';
import type { DeliveryDeps } from './deps.ts';
import { executeAction } from './execute-action.ts';

/** What the queue's deliver-webhook and execute-action jobs call (registered as ctx.deliveries). */
export class DecisionDeliveries implements DecisionDelivery {
  constructor(private readonly deps: DeliveryDeps) {}

  deliverWebhook(actionId: string, attempt: number, info?: DeliveryInfo): Promise<void> {
    return deliverWebhook(this.deps, actionId, attempt, info);
  }

  execute(actionId: string, attempt: number, info?: DeliveryInfo): Promise<void> {
    return executeAction(this.deps, actionId, attempt, info);
  }
}
