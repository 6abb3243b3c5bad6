import { describe, expect, it } from 'vitest';
import { ChannelError } from '@countersign/core';
import { toChannelError } from '../src/errors.ts';

// What the SDK's connector throws: a RestError-like error with statusCode and response headers.
function httpError(status: number, headers: Record<string, string> = {}, code?: string) {
  return Object.assign(new Error(`HTTP ${status}`), {
    statusCode: status,
    response: { status, headers: { get: (n: string) => headers[n.toLowerCase()] } },
    ...(code ? { body: { error: { code } } } : {}),
  });
}

describe('toChannelError', () => {
  it.each([429, 412, 502, 504])('%i is throttling: retryable, with the server’s Retry-After', (status) => {
    const e = toChannelError(httpError(status, { 'retry-after': '7' }), 'posting a card');
    expect(e).toBeInstanceOf(ChannelError);
    expect(e).toMatchObject({ retryable: true, code: 'throttled', retryAfterMs: 7000 });
  });

  it('500/503 and network failures are retryable', () => {
    expect(toChannelError(httpError(503), 'x')).toMatchObject({ retryable: true, code: 'unavailable' });
    expect(toChannelError(Object.assign(new Error('refused'), { code: 'ECONNREFUSED' }), 'x')).toMatchObject({ retryable: true, code: 'network' });
  });

  it('403/404 mean the bot was removed: never retried', () => {
    expect(toChannelError(httpError(403, {}, 'BotNotInConversationRoster'), 'x')).toMatchObject({ retryable: false, code: 'conversation_gone' });
    expect(toChannelError(httpError(404), 'x')).toMatchObject({ retryable: false, code: 'conversation_gone' });
    expect(toChannelError(httpError(403, {}, 'BotNotInConversationRoster'), 'x').message).toContain('BotNotInConversationRoster');
  });

  it('bad requests and rejected credentials are not retried', () => {
    expect(toChannelError(httpError(400), 'x')).toMatchObject({ retryable: false, code: 'invalid_request' });
    expect(toChannelError(httpError(413), 'x')).toMatchObject({ retryable: false, code: 'invalid_request' });
    expect(toChannelError(httpError(401), 'x')).toMatchObject({ retryable: false, code: 'unauthorized' });
  });

  it('marks failures that may have been processed as ambiguous (the queue must not assume nothing was posted)', () => {
    for (const status of [500, 502, 504, 599]) expect(toChannelError(httpError(status), 'x'), String(status)).toMatchObject({ retryable: true, ambiguous: true });
    for (const code of ['ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'REQUEST_SEND_ERROR']) {
      expect(toChannelError(Object.assign(new Error('cut'), { code }), 'x'), code).toMatchObject({ retryable: true, code: 'network', ambiguous: true });
    }
    const timeout = Object.assign(new Error('The operation was aborted.'), { name: 'AbortError' });
    expect(toChannelError(timeout, 'x')).toMatchObject({ retryable: true, code: 'timeout', ambiguous: true });
    expect(toChannelError(new Error('something odd'), 'x')).toMatchObject({ retryable: true, code: 'unknown', ambiguous: true });
  });

  it('does not mark answers that nothing was processed as ambiguous', () => {
    for (const status of [429, 412, 503, 408, 400, 401, 403, 404, 413]) expect(toChannelError(httpError(status), 'x').ambiguous, String(status)).toBe(false);
    for (const code of ['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN']) expect(toChannelError(Object.assign(new Error('no'), { code }), 'x').ambiguous, code).toBe(false);
  });

  it("finds a connection error behind a wrapper, as Node's fetch reports it", () => {
    const refused = new TypeError('fetch failed', { cause: Object.assign(new Error('connect'), { code: 'ECONNREFUSED' }) });
    expect(toChannelError(refused, 'x')).toMatchObject({ retryable: true, code: 'network', ambiguous: false });
  });

  it('honours Retry-After up to the one cap every outbound call shares', () => {
    expect(toChannelError(httpError(429, { 'retry-after': '999999' }), 'x').retryAfterMs).toBe(3_600_000);
  });

  it('passes a ChannelError through', () => {
    const e = new ChannelError('gone', false, 'conversation_gone');
    expect(toChannelError(e, 'x')).toBe(e);
  });
});
