import { createHmac, timingSafeEqual } from 'node:crypto';
import { WebhookVerificationError } from './errors.ts';
import type { Action } from './types.ts';

// Webhooks: countersign POSTs the final state of an action to its callbackUrl, signed with the
// HMAC secret of the API key that submitted it.
//
//   Countersign-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>
//   Countersign-Event-Id: <stable across retries of one event: deduplicate on it>
//   Countersign-Delivery-Attempt: <1, 2, 3, …>
//
// The timestamp is inside the signed bytes, so an old delivery cannot be replayed with a fresh
// `t`; receivers refuse timestamps outside a tolerance window (the replay window).

export const SIGNATURE_HEADER = 'countersign-signature';
export const EVENT_ID_HEADER = 'countersign-event-id';
export const ATTEMPT_HEADER = 'countersign-delivery-attempt';
export const DEFAULT_TOLERANCE_SECONDS = 300;

/** The JSON body of a webhook delivery. `action` is the final action view, without the release token. */
export interface WebhookEvent {
  id: string;
  type: 'action.decided';
  createdAt: string;
  action: Omit<Action, 'releaseToken' | 'releaseTokenExpiresAt'>;
}

export type HeaderBag = Headers | Record<string, string | string[] | undefined>;

export interface VerifyWebhookOptions {
  /** The raw request body, exactly as received (not re-serialised JSON). */
  body: string | Uint8Array;
  headers: HeaderBag;
  /** The signing secret (`whsec_…`); several while rotating. */
  secret: string | string[];
  /** Largest accepted age (and clock skew) of the signature timestamp. Default 300 s. */
  toleranceSeconds?: number;
  /** For tests: the current time. */
  now?: Date;
}

/** Checks signature and freshness, then returns the parsed event. Throws WebhookVerificationError. */
export function verifyWebhook(opts: VerifyWebhookOptions): WebhookEvent & { attempt: number } {
  const tolerance = opts.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS;
  // NaN would make every comparison false and Infinity accept any age: either disables the
  // replay window. A programming error, refused loudly (also for plain-JavaScript callers).
  if (typeof tolerance !== 'number' || !Number.isFinite(tolerance) || tolerance < 0) {
    throw new TypeError('verifyWebhook: toleranceSeconds must be a finite number of seconds ≥ 0');
  }
  const header = headerValue(opts.headers, SIGNATURE_HEADER);
  if (!header) throw new WebhookVerificationError('missing_header', `no ${SIGNATURE_HEADER} header`);
  const { timestamp, signatures } = parseSignatureHeader(header);

  const now = Math.floor((opts.now ?? new Date()).getTime() / 1000);
  if (!Number.isFinite(now)) throw new TypeError('verifyWebhook: now must be a valid Date');
  if (Math.abs(now - timestamp) > tolerance) {
    throw new WebhookVerificationError('timestamp_out_of_range', `signature timestamp is ${now - timestamp}s from now (tolerance ${tolerance}s)`);
  }

  const body = typeof opts.body === 'string' ? Buffer.from(opts.body, 'utf8') : Buffer.from(opts.body);
  const secrets = Array.isArray(opts.secret) ? opts.secret : [opts.secret];
  if (secrets.length === 0 || secrets.some((s) => !s)) throw new TypeError('verifyWebhook needs a signing secret');
  const expected = secrets.map((secret) => computeSignature(secret, timestamp, body));
  // Compare every candidate in constant time; never stop at the first mismatch.
  let ok = false;
  for (const candidate of signatures) for (const e of expected) ok = constantTimeEqualHex(candidate, e) || ok;
  if (!ok) throw new WebhookVerificationError('bad_signature', 'no signature matches the body and secret');

  let event: WebhookEvent;
  try {
    event = JSON.parse(body.toString('utf8')) as WebhookEvent;
  } catch {
    throw new WebhookVerificationError('invalid_body', 'the signed body is not JSON');
  }
  const headerEventId = headerValue(opts.headers, EVENT_ID_HEADER);
  if (headerEventId !== undefined && headerEventId !== event.id) {
    throw new WebhookVerificationError('invalid_body', 'the event id header does not match the signed body');
  }
  const attempt = Number(headerValue(opts.headers, ATTEMPT_HEADER) ?? '1');
  return { ...event, attempt: Number.isSafeInteger(attempt) && attempt > 0 ? attempt : 1 };
}

/** The header value countersign sends; exported so receivers can test their endpoint. */
export function signWebhook(opts: { body: string | Uint8Array; secret: string; timestamp?: number }): string {
  const timestamp = opts.timestamp ?? Math.floor(Date.now() / 1000);
  const body = typeof opts.body === 'string' ? Buffer.from(opts.body, 'utf8') : Buffer.from(opts.body);
  return `t=${timestamp},v1=${computeSignature(opts.secret, timestamp, body)}`;
}

function computeSignature(secret: string, timestamp: number, body: Buffer): string {
  return createHmac('sha256', secret).update(`${timestamp}.`, 'utf8').update(body).digest('hex');
}

function parseSignatureHeader(header: string): { timestamp: number; signatures: string[] } {
  let timestamp: number | undefined;
  const signatures: string[] = [];
  for (const part of header.split(',')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    const key = part.slice(0, eq).trim();
    const value = part.slice(eq + 1).trim();
    if (key === 't' && /^\d{1,12}$/.test(value)) timestamp = Number(value);
    else if (key === 'v1' && /^[0-9a-f]{64}$/.test(value)) signatures.push(value);
  }
  if (timestamp === undefined || signatures.length === 0) {
    throw new WebhookVerificationError('malformed_header', `${SIGNATURE_HEADER} must look like t=<unix>,v1=<hex>`);
  }
  return { timestamp, signatures };
}

function constantTimeEqualHex(a: string, b: string): boolean {
  const x = Buffer.from(a, 'hex');
  const y = Buffer.from(b, 'hex');
  return x.length === y.length && x.length > 0 && timingSafeEqual(x, y);
}

function headerValue(headers: HeaderBag, name: string): string | undefined {
  if (typeof (headers as Headers).get === 'function') return (headers as Headers).get(name) ?? undefined;
  const bag = headers as Record<string, string | string[] | undefined>;
  const key = Object.keys(bag).find((k) => k.toLowerCase() === name);
  const value = key === undefined ? undefined : bag[key];
  return Array.isArray(value) ? value.join(',') : value;
}
