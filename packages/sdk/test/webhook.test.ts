import { describe, expect, it } from 'vitest';
import { signatureHeader } from '../../../modules/delivery/src/signature.ts';
import { signWebhook, verifyWebhook, WebhookVerificationError } from '../src/index.ts';

const SECRET = 'whsec_test-secret-0123456789abcdef';
const NOW = new Date('2026-03-01T12:00:00Z');
const T = Math.floor(NOW.getTime() / 1000);
const BODY = JSON.stringify({ id: 'evt_1', type: 'action.decided', createdAt: NOW.toISOString(), action: { id: 'act_1', status: 'approved' } });

function reason(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(WebhookVerificationError);
    return (err as WebhookVerificationError).reason;
  }
  throw new Error('expected a rejection');
}

describe('verifyWebhook', () => {
  it('accepts what the server signs (plain headers or a Headers object)', () => {
    const header = signatureHeader(SECRET, BODY, NOW);
    const event = verifyWebhook({ body: BODY, headers: { 'Countersign-Signature': header, 'countersign-event-id': 'evt_1', 'countersign-delivery-attempt': '3' }, secret: SECRET, now: NOW });
    expect(event).toMatchObject({ id: 'evt_1', type: 'action.decided', attempt: 3, action: { status: 'approved' } });
    const headers = new Headers({ 'countersign-signature': header });
    expect(verifyWebhook({ body: Buffer.from(BODY), headers, secret: SECRET, now: NOW }).attempt).toBe(1);
  });

  it('agrees with the SDK signer', () => {
    expect(signWebhook({ body: BODY, secret: SECRET, timestamp: T })).toBe(signatureHeader(SECRET, BODY, NOW));
  });

  it('refuses a changed body, a wrong secret, and a missing or malformed header', () => {
    const header = signWebhook({ body: BODY, secret: SECRET, timestamp: T });
    const headers = { 'countersign-signature': header };
    expect(reason(() => verifyWebhook({ body: BODY.replace('approved', 'refused'), headers, secret: SECRET, now: NOW }))).toBe('bad_signature');
    expect(reason(() => verifyWebhook({ body: BODY, headers, secret: 'whsec_other', now: NOW }))).toBe('bad_signature');
    expect(reason(() => verifyWebhook({ body: BODY, headers: {}, secret: SECRET, now: NOW }))).toBe('missing_header');
    expect(reason(() => verifyWebhook({ body: BODY, headers: { 'countersign-signature': 'sha256=abc' }, secret: SECRET, now: NOW }))).toBe('malformed_header');
    // The timestamp is signed: moving it forward to pass the window breaks the signature.
    const moved = header.replace(`t=${T}`, `t=${T + 1000}`);
    expect(reason(() => verifyWebhook({ body: BODY, headers: { 'countersign-signature': moved }, secret: SECRET, now: new Date((T + 1000) * 1000) }))).toBe('bad_signature');
  });

  it('refuses replays outside the tolerance window, both ways', () => {
    const headers = { 'countersign-signature': signWebhook({ body: BODY, secret: SECRET, timestamp: T }) };
    expect(verifyWebhook({ body: BODY, headers, secret: SECRET, now: new Date((T + 299) * 1000) }).id).toBe('evt_1');
    expect(reason(() => verifyWebhook({ body: BODY, headers, secret: SECRET, now: new Date((T + 301) * 1000) }))).toBe('timestamp_out_of_range');
    expect(reason(() => verifyWebhook({ body: BODY, headers, secret: SECRET, now: new Date((T - 301) * 1000) }))).toBe('timestamp_out_of_range');
    expect(reason(() => verifyWebhook({ body: BODY, headers, secret: SECRET, toleranceSeconds: 10, now: new Date((T + 11) * 1000) }))).toBe('timestamp_out_of_range');
  });

  it('throws a TypeError for a tolerance that would disable the replay window (NaN, Infinity, negative)', () => {
    const headers = { 'countersign-signature': signWebhook({ body: BODY, secret: SECRET, timestamp: T }) };
    // A year-old delivery: any of these tolerances would otherwise let it through (or skip the check).
    const later = new Date((T + 365 * 86_400) * 1000);
    for (const toleranceSeconds of [Number.NaN, Number.POSITIVE_INFINITY, -1, '300' as unknown as number]) {
      expect(() => verifyWebhook({ body: BODY, headers, secret: SECRET, toleranceSeconds, now: later }), String(toleranceSeconds)).toThrow(TypeError);
    }
    // Checked before anything else, so a misconfiguration shows even on a request without a signature.
    expect(() => verifyWebhook({ body: BODY, headers: {}, secret: SECRET, toleranceSeconds: Number.NaN })).toThrow(/toleranceSeconds/);
    expect(() => verifyWebhook({ body: BODY, headers, secret: SECRET, now: new Date('not a date') })).toThrow(TypeError);
    // 0 is a valid (strict) window.
    expect(verifyWebhook({ body: BODY, headers, secret: SECRET, toleranceSeconds: 0, now: NOW }).id).toBe('evt_1');
  });

  it('accepts any of several secrets while rotating, and checks the event id header against the body', () => {
    const headers = { 'countersign-signature': signWebhook({ body: BODY, secret: SECRET, timestamp: T }) };
    expect(verifyWebhook({ body: BODY, headers, secret: ['whsec_new', SECRET], now: NOW }).id).toBe('evt_1');
    expect(reason(() => verifyWebhook({ body: BODY, headers: { ...headers, 'countersign-event-id': 'evt_2' }, secret: SECRET, now: NOW }))).toBe('invalid_body');
  });
});
