// The Delivery table as the delivery module sees it (packages/db implements it): one row per
// action and kind (webhook, execution). Every send first *claims* the row (pending → sending,
// attempts + 1) in one conditional write, so two workers holding the same job (a retry racing
// a stalled one) never send at once, and a row that is delivered or failed is never sent
// again. A claim whose worker died is taken over once its lease has run out.

export type DeliveryKind = 'webhook' | 'webhook.override' | 'execution';
export type DeliveryState = 'pending' | 'sending' | 'delivered' | 'failed';

export interface DeliveryRow {
  id: string;
  actionId: string;
  kind: string;
  url: string;
  idempotencyKey: string;
  state: DeliveryState;
  attempts: number;
  responseStatus: number | null;
  lastError: string | null;
  createdAt: Date;
  updatedAt: Date;
  deliveredAt: Date | null;
}

export type DeliveryClaim =
  | { claimed: true; row: DeliveryRow }
  /** Someone else holds a live claim: try again after `retryAfterMs`. */
  | { claimed: false; busy: true; row: DeliveryRow; retryAfterMs: number }
  /** Already delivered or failed: nothing more to send. */
  | { claimed: false; busy: false; row: DeliveryRow };

export interface DeliveryStore {
  /** Creates the row if it is new (idempotently), then claims it for one attempt. */
  claim(input: { actionId: string; kind: DeliveryKind; url: string; idempotencyKey: string }): Promise<DeliveryClaim>;
  /** Records a refusal before any send (destination not allowed, template unusable): final. */
  failWithoutSending(input: { actionId: string; kind: DeliveryKind; url: string; idempotencyKey: string; error: string }): Promise<DeliveryRow>;
  /**
   * Ends this attempt: delivered, failed (final) or back to pending (to be retried). Guarded by
   * the claim (state 'sending' and this attempt's number) so a late worker cannot overwrite.
   */
  finish(row: DeliveryRow, result: { state: 'delivered' | 'failed' | 'pending'; responseStatus: number | null; error: string | null }): Promise<DeliveryRow>;
  find(actionId: string, kind: DeliveryKind): Promise<DeliveryRow | null>;
}
