import { describe, expect, it } from 'vitest';
import { ChannelError } from '@countersign/core';
import { retryAfterMs, teamsBackoffMs, toChannelError } from '../src/errors.ts';

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

  it('passes a ChannelError through', () => {
    const e = new ChannelError('gone', false, 'conversation_gone');
    expect(toChannelError(e, 'x')).toBe(e);
  });
});

describe('retryAfterMs', () => {
  it('reads delta-seconds and HTTP dates, capped at an hour', () => {
    expect(retryAfterMs('3')).toBe(3000);
    expect(retryAfterMs('Thu, 01 Jan 2026 00:00:10 GMT', new Date('2026-01-01T00:00:00Z'))).toBe(10_000);
    expect(retryAfterMs('999999')).toBe(3_600_000);
    expect(retryAfterMs('soon')).toBeUndefined();
    expect(retryAfterMs(undefined)).toBeUndefined();
  });
});

describe('teamsBackoffMs', () => {
  it('grows exponentially with jitter, never below Retry-After', () => {
    expect(teamsBackoffMs(1, undefined, () => 0)).toBe(500);
    expect(teamsBackoffMs(1, undefined, () => 1)).toBe(1000);
    expect(teamsBackoffMs(4, undefined, () => 0.5)).toBe(6000);
    expect(teamsBackoffMs(30, undefined, () => 1)).toBe(60_000);
    expect(teamsBackoffMs(1, 5000, () => 1)).toBe(5000);
  });
});
