import { describe, expect, it } from 'vitest';
import { networkErrorCode, networkFailure } from '../src/index.ts';

const coded = (code: string) => Object.assign(new Error(code), { code });

describe('networkFailure', () => {
  it('never sent: refused connections, failed DNS, unreachable hosts, connect timeouts', () => {
    for (const code of ['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'UND_ERR_CONNECT_TIMEOUT']) {
      expect(networkFailure(coded(code)), code).toEqual({ code, sent: false });
    }
  });

  it('maybe sent: a connection cut off or timed out after the request left', () => {
    for (const code of ['ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'UND_ERR_SOCKET', 'REQUEST_SEND_ERROR']) {
      expect(networkFailure(coded(code)), code).toEqual({ code, sent: 'maybe' });
    }
    expect(networkFailure(new DOMException('timed out', 'TimeoutError'))).toEqual({ code: 'timeout', sent: 'maybe' });
  });

  it("finds the code behind Node fetch's wrapper and happy-eyeballs' AggregateError", () => {
    expect(networkFailure(new TypeError('fetch failed', { cause: coded('ECONNREFUSED') }))).toEqual({ code: 'ECONNREFUSED', sent: false });
    const aggregate = new AggregateError([coded('ECONNREFUSED'), coded('ECONNREFUSED')], 'connect');
    expect(networkFailure(new TypeError('fetch failed', { cause: aggregate }))).toEqual({ code: 'ECONNREFUSED', sent: false });
    // An abort is not why: the reason further down is.
    const abort = Object.assign(new Error('aborted'), { code: 'ABORT_ERR', cause: new DOMException('timed out', 'TimeoutError') });
    expect(networkErrorCode(abort)).toBe('timeout');
  });

  it('is not a network failure without a known network code', () => {
    expect(networkFailure(new Error('bug'))).toBeUndefined();
    expect(networkFailure(coded('ERR_INVALID_ARG_TYPE'))).toBeUndefined();
    expect(networkErrorCode(coded('ERR_INVALID_ARG_TYPE'))).toBe('ERR_INVALID_ARG_TYPE');
    expect(networkFailure(null)).toBeUndefined();
  });
});
