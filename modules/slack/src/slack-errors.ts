import { ChannelError } from '@countersign/core';
import { retryAfterMs } from './countersign-sdk.ts';

// Slack Web API failures sorted into "retry" and "give up" for the queue. The WebClient is
// built to neither retry nor wait out 429s itself (see web-client.ts): the queue's pacer and
// backoff own every retry, so a job never sleeps inside a Slack call.

/** Platform errors a later attempt can get past; every other platform error is permanent. */
const RETRYABLE_PLATFORM_ERRORS = new Set(['ratelimited', 'internal_error', 'fatal_error', 'service_unavailable', 'request_timeout', 'team_added_to_org']);
/**
 * Failures after which Slack may nevertheless have done what was asked (Slack documents
 * `fatal_error` as "some aspect of the operation may have succeeded"): a post that ends this
 * way is looked for before it is posted again. A 429 and the refusals above never did anything.
 */
const AMBIGUOUS_PLATFORM_ERRORS = new Set(['internal_error', 'fatal_error', 'service_unavailable', 'request_timeout']);

interface SlackLikeError {
  code?: string;
  retryAfter?: number;
  statusCode?: number;
  data?: { error?: string };
  message?: string;
}

/** Turns whatever a WebClient call threw into a ChannelError (the only error channels report). */
export function toChannelError(err: unknown, method: string): ChannelError {
  if (err instanceof ChannelError) return err;
  const e = (err ?? {}) as SlackLikeError;
  switch (e.code) {
    case 'slack_webapi_rate_limited_error': {
      // The WebClient read Retry-After into seconds; the wait is capped like any other Retry-After.
      const wait = (typeof e.retryAfter === 'number' ? retryAfterMs(String(e.retryAfter)) : undefined) ?? 1000;
      return new ChannelError(`Slack ${method}: rate limited, retry after ${wait / 1000}s`, true, 'rate_limited', wait);
    }
    case 'slack_webapi_platform_error': {
      const code = e.data?.error ?? 'unknown_error';
      return new ChannelError(`Slack ${method}: ${code}`, RETRYABLE_PLATFORM_ERRORS.has(code), code, undefined, { ambiguous: AMBIGUOUS_PLATFORM_ERRORS.has(code) });
    }
    case 'slack_webapi_http_error': {
      const status = e.statusCode ?? 0;
      const retryable = status >= 500 || status === 408;
      return new ChannelError(`Slack ${method}: HTTP ${status}`, retryable, `http_${status}`, undefined, { ambiguous: retryable });
    }
    case 'slack_webapi_request_error':
      // A timeout or a dropped connection: the request may have reached Slack and been done.
      return new ChannelError(`Slack ${method}: request failed (${e.message ?? 'network error'})`, true, 'network', undefined, { ambiguous: true });
    default:
      // Not a Web API error (a bug on our side, a malformed response): retrying will not fix a
      // bug, and a permanent failure is surfaced in logs and metrics instead of looping.
      return new ChannelError(`Slack ${method}: ${e.message ?? String(err)}`, false, 'unexpected');
  }
}
