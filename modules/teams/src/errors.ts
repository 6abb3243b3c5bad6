import { ChannelError } from '@countersign/core';
import { networkFailure, retryAfterMs } from './countersign-sdk.ts';

// Sorts a failed Bot Connector call into "retry later" and "give up" for the queue.
// Teams asks bots to retry 429, 412, 502 and 504 with exponential backoff and jitter; a 403 or
// 404 on a conversation means the bot was removed (or the conversation is gone), which no retry
// can fix. The SDK's own HTTP retries are switched off for proactive calls (auth.ts) so that the
// queue, which paces per conversation, is the only one deciding when to try again.
//
// Some failures leave open whether Teams took the message (`ambiguous`): a gateway's 502/504 or
// a 500 came after the request reached Microsoft, and a reset or timed-out connection may have
// delivered it (the SDK's networkFailure sorts connection errors). 429, 412, 503 and 408 are
// answers that the request was not processed, and a refused connection or a failed DNS look-up
// never sent it. The Bot Connector has no way to list or look up a conversation's messages
// (only create, reply, update, delete and members), so the Teams channel cannot find an
// unconfirmed post again; the queue posts it again (its policy for a channel without
// findCard), which may show a card twice but never loses one.

const THROTTLED = new Set([429, 412, 502, 504]);
const TRANSIENT = new Set([500, 503, 408]);
const MAYBE_PROCESSED = new Set([500, 502, 504]);

interface HttpishError {
  statusCode?: number;
  status?: number;
  response?: { status?: number; headers?: unknown };
  body?: { error?: { code?: string } };
}

function header(headers: unknown, name: string): string | undefined {
  if (!headers || typeof headers !== 'object') return undefined;
  const h = headers as { get?: (n: string) => string | undefined | null } & Record<string, unknown>;
  if (typeof h.get === 'function') return h.get(name) ?? undefined;
  const key = Object.keys(h).find((k) => k.toLowerCase() === name);
  const v = key ? h[key] : undefined;
  return typeof v === 'string' ? v : undefined;
}

export function statusOf(err: unknown): number | undefined {
  const e = err as HttpishError | null;
  if (!e || typeof e !== 'object') return undefined;
  return e.statusCode ?? e.response?.status ?? (typeof e.status === 'number' ? e.status : undefined);
}

export function toChannelError(err: unknown, what: string): ChannelError {
  if (err instanceof ChannelError) return err;
  const e = (err ?? {}) as HttpishError & { message?: string; name?: string };
  const status = statusOf(err);
  const detail = e.body?.error?.code ? ` (${e.body.error.code})` : '';
  if (status !== undefined) {
    const after = retryAfterMs(header(e.response?.headers, 'retry-after'));
    const ambiguous = { ambiguous: MAYBE_PROCESSED.has(status) };
    if (THROTTLED.has(status)) return new ChannelError(`Teams throttled ${what}: HTTP ${status}${detail}`, true, 'throttled', after, ambiguous);
    if (TRANSIENT.has(status)) return new ChannelError(`Teams failed ${what}: HTTP ${status}${detail}`, true, 'unavailable', after, ambiguous);
    if (status === 403 || status === 404) {
      return new ChannelError(`Teams refused ${what}: HTTP ${status}${detail}; the bot was removed or the conversation is gone`, false, 'conversation_gone');
    }
    if (status === 401) return new ChannelError(`Teams rejected the bot's credentials for ${what}: HTTP 401`, false, 'unauthorized');
    if (status === 400 || status === 413) return new ChannelError(`Teams rejected ${what}: HTTP ${status}${detail}`, false, 'invalid_request');
    // Any other 5xx may have been processed; any other 4xx was refused.
    return new ChannelError(`Teams failed ${what}: HTTP ${status}${detail}`, status >= 500, `http_${status}`, after, { ambiguous: status >= 500 });
  }
  const network = networkFailure(err);
  if (network?.sent === false) return new ChannelError(`Teams unreachable for ${what}: ${network.code}`, true, 'network');
  if (network) return new ChannelError(`Teams connection lost while ${what}: ${network.code}`, true, network.code === 'timeout' ? 'timeout' : 'network', undefined, { ambiguous: true });
  // The HTTP client aborts a request that outlives its timeout: it may have been processed.
  if (e.name === 'AbortError') return new ChannelError(`Teams timed out ${what}`, true, 'timeout', undefined, { ambiguous: true });
  // Token acquisition (MSAL) and anything unexpected: retry, the queue gives up after its
  // attempts; whether it went out is unknown, so it is treated as possibly sent.
  return new ChannelError(`Teams ${what} failed: ${e.message ?? String(err)}`, true, 'unknown', undefined, { ambiguous: true });
}
