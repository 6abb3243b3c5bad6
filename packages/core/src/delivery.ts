// What happens to a final decision outside countersign: the webhook to the intent's
// callbackUrl and held execution (the rule's executor). The queue engine only schedules and
// retries these; the module that implements them (SDK / webhooks) registers one on the
// service context as `ctx.deliveries`.

export interface DeliveryInfo {
  /** How many attempts the queue makes in all; `attempt === maxAttempts` is the last one. */
  maxAttempts: number;
}

export interface DecisionDelivery {
  /**
   * POSTs the final decision to the intent's callbackUrl. `attempt` counts from 1. Must be
   * idempotent (the same decision may be handed over more than once: retries, stalled jobs).
   */
  deliverWebhook(actionId: string, attempt: number, info?: DeliveryInfo): Promise<void>;
  /** Sends the rule's executor request for an approved action (decides itself whether there is one). */
  execute(actionId: string, attempt: number, info?: DeliveryInfo): Promise<void>;
}

/**
 * Thrown by a DecisionDelivery to steer the queue: `retryable` false gives up at once (a 4xx
 * that retrying cannot fix); `retryAfterMs` asks for the next attempt no sooner than that.
 * Any other error is retried with the job's backoff until its attempts run out.
 */
export class DeliveryError extends Error {
  constructor(
    message: string,
    readonly retryable: boolean,
    readonly code: string,
    readonly retryAfterMs?: number,
  ) {
    super(message);
    this.name = 'DeliveryError';
  }
}
