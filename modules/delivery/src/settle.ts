import { DeliveryError, type DeliveryInfo } from '@countersign/core';
import type { DeliveryRow, DeliveryRows } from './delivery-rows.ts';
import type { OutboundResult } from './outbound.ts';

/**
 * Records one attempt's result and says what the queue should do next. Returns the row when
 * delivered; throws a DeliveryError otherwise: not retryable for a final refusal or the last
 * attempt (the row is then `failed`), retryable (row back to `pending`) for anything else.
 */
export async function settle(rows: DeliveryRows, row: DeliveryRow, result: OutboundResult, attempt: number, info: DeliveryInfo | undefined): Promise<DeliveryRow> {
  if (result.outcome === 'delivered') {
    return rows.finish(row, { state: 'delivered', responseStatus: result.status, error: null });
  }
  if (result.outcome === 'give_up') {
    await rows.finish(row, { state: 'failed', responseStatus: result.status, error: result.error });
    throw new DeliveryError(`the destination refused it (${result.error}); not retrying`, false, 'refused_by_destination');
  }
  const last = info !== undefined && attempt >= info.maxAttempts;
  await rows.finish(row, { state: last ? 'failed' : 'pending', responseStatus: result.status, error: result.error });
  if (last) throw new DeliveryError(`${result.error} on the last of ${info.maxAttempts} attempts; giving up`, false, 'attempts_exhausted');
  throw new DeliveryError(`${result.error}; will retry`, true, 'destination_unavailable', result.retryAfterMs);
}
