import type { JobHandlers } from '@countersign/queue';
import type { WorkerDeps } from '../deps.ts';
import { deliverWebhook } from './deliver-webhook.ts';
import { escalateTier } from './escalate-tier.ts';
import { executeAction } from './execute-action.ts';
import { expire } from './expire.ts';
import { notifyRequester } from './notify-requester.ts';
import { postCards } from './post-cards.ts';
import { remind } from './remind.ts';
import { updateCards } from './update-cards.ts';

/** Every job of the catalog and its processor (the type makes a missing one a compile error). */
export function jobHandlers(deps: WorkerDeps): JobHandlers {
  return {
    'post-cards': postCards(deps),
    'update-cards': updateCards(deps),
    remind: remind(deps),
    'escalate-tier': escalateTier(deps),
    expire: expire(deps),
    'notify-requester': notifyRequester(deps),
    'deliver-webhook': deliverWebhook(deps),
    'execute-action': executeAction(deps),
  };
}
