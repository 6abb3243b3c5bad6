import { DeliveryError, type DeliveryInfo } from '@countersign/core';
import type { DeliveryKind } from './delivery-rows.ts';
import type { DeliveryDeps } from './deps.ts';
import { settle } from './settle.ts';
import { ATTEMPT_HEADER, EVENT_ID_HEADER, SIGNATURE_HEADER, signatureHeader } from './signature.ts';
import { webhookSecretFor } from './signing-secret.ts';
import { webhookEvent } from './webhook-event.ts';

/**
 * POSTs an action's final state to its callbackUrl, signed with the submitting key's secret.
 * Idempotent: a delivered event is never sent again; retries carry the same event id.
 */
export async function deliverWebhook(deps: DeliveryDeps, actionId: string, attempt: number, info?: DeliveryInfo): Promise<void> {
  const action = await deps.store.findAction(actionId);
  if (!action) throw new DeliveryError(`no action ${actionId}`, false, 'not_found');
  if (action.status === 'pending') throw new DeliveryError(`action ${actionId} is not final`, false, 'not_final');
  const url = action.intent.callbackUrl;
  if (!url) return;

  // An override turns a refusal into an approval: a second event, delivered on its own.
  const kind: DeliveryKind = action.overriddenBy ? 'webhook.override' : 'webhook';
  const eventId = `evt_${action.id.slice(4)}${kind === 'webhook.override' ? '_override' : ''}`;

  // Checked again now, not only at submission: the allow-list may have shrunk since.
  if (!deps.destinations.webhook.allows(url)) {
    await deps.rows.failWithoutSending({ actionId, kind, url, idempotencyKey: eventId, error: 'destination is not allowed (COUNTERSIGN_CALLBACK_ALLOWLIST)' });
    throw new DeliveryError('callbackUrl is not an allowed destination any more', false, 'destination_not_allowed');
  }

  const claim = await deps.rows.claim({ actionId, kind, url, idempotencyKey: eventId });
  if (!claim.claimed) {
    if (claim.busy) throw new DeliveryError('another attempt is in flight', true, 'busy', claim.retryAfterMs);
    return;
  }
  const row = claim.row;
  let result;
  try {
    const body = JSON.stringify(await webhookEvent(deps.store, action, eventId, row.createdAt));
    result = await deps.send({
      url,
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'user-agent': 'countersign-webhooks/1',
        [SIGNATURE_HEADER]: signatureHeader(webhookSecretFor(deps.webhookMaster, action.apiKeyId), body),
        [EVENT_ID_HEADER]: eventId,
        [ATTEMPT_HEADER]: String(row.attempts),
      },
      body,
      timeoutMs: deps.timeoutMs,
    });
  } catch (err) {
    // Not a verdict about the destination (a database hiccup building the body): release the
    // claim so the retry can go ahead at once, and let the queue retry.
    await deps.rows.finish(row, { state: 'pending', responseStatus: null, error: `internal: ${(err as Error).message}` });
    throw err;
  }
  await settle(deps.rows, row, result, attempt, info);
}
