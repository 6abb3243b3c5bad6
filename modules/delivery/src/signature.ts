import { createHmac } from 'node:crypto';

// The webhook header scheme (documented in the README and verified by the SDK):
//   Countersign-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>
//   Countersign-Event-Id: <stable for one event across retries>
//   Countersign-Delivery-Attempt: <1, 2, 3, …>
export const SIGNATURE_HEADER = 'Countersign-Signature';
export const EVENT_ID_HEADER = 'Countersign-Event-Id';
export const ATTEMPT_HEADER = 'Countersign-Delivery-Attempt';

export function signatureHeader(secret: string, body: string, at: Date = new Date()): string {
  const t = Math.floor(at.getTime() / 1000);
  const v1 = createHmac('sha256', secret).update(`${t}.${body}`, 'utf8').digest('hex');
  return `t=${t},v1=${v1}`;
}
