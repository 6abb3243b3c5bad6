// @countersign/delivery: what happens to a final decision outside countersign. Signed webhooks
// to the intent's callbackUrl and held execution of the rule's executor, both driven by the
// queue's deliver-webhook / execute-action jobs through ctx.deliveries.
export { deliveryModule } from './module.ts';
export { DecisionDeliveries } from './decision-delivery.ts';
export type { DeliveryDeps } from './deps.ts';
export { deliverWebhook } from './deliver-webhook.ts';
export { executeAction, EXECUTION_KIND, RELEASE_TOKEN_HEADER } from './execute-action.ts';
export type { DeliveryRows, DeliveryRow, DeliveryKind, DeliveryState } from './delivery-rows.ts';
export { renderExecutor, RenderError, type RenderedRequest, type RenderScope } from './render-executor.ts';
export { send, classify, type OutboundRequest, type OutboundResult, type Send } from './outbound.ts';
export { signatureHeader, SIGNATURE_HEADER, EVENT_ID_HEADER, ATTEMPT_HEADER } from './signature.ts';
export { loadWebhookMaster, webhookSecretFromFile, webhookSecretFor, MASTER_FILE } from './signing-secret.ts';
export { webhookEvent, type WebhookEvent } from './webhook-event.ts';
export { destinationsFrom, type Destinations } from './destinations.ts';
export { checkPolicyExecutors } from './executor-check.ts';
export { parseDeliverySettings, type DeliverySettings } from './settings.ts';
