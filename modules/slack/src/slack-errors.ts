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

/**
 * The error LeanWebClient throws for a 2xx whose body is not Slack's JSON object answer (a
 * proxy's or gateway's page, a body cut short): the call may or may not have been done.
 */
export const BAD_RESPONSE_ERROR = 'countersign_slack_bad_response';
/** The shortest wait after a 429: Slack's own Retry-After is at least a second. */
export const MIN_RATE_LIMIT_WAIT_MS = 1000;
/**
 * What Slack's error codes look like ("channel_not_found", "invalid_blocks"). Any other text in
 * `error` is not taken as a code: codes become metric labels, log fields and stored card errors.
 */
const SLACK_ERROR_CODE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
/** The most characters of a message or response text kept for logs and stored errors. */
const DETAIL_MAX = 200;

/** Text from a response or an error, for logs: one line, at most DETAIL_MAX characters. */
export function clipDetail(text: string, max = DETAIL_MAX): string {
  const line = text
    .slice(0, max * 4)
    .replace(/[\s\u0000-\u001f\u007f-\u009f]+/g, ' ')
    .trim();
  if (line.length <= max) return line;
  let cut = line.slice(0, max - 1);
  // Do not leave half a surrogate pair behind.
  if (/[\ud800-\udbff]$/.test(cut)) cut = cut.slice(0, -1);
  return `${cut}…`;
}

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
      // The WebClient read Retry-After into seconds (undefined when absent or unreadable); the
      // wait is capped like any other Retry-After, and is never shorter than a second: a 429
      // with no readable wait, or "0", must not turn into a loop against the API limiting us.
      const asked = typeof e.retryAfter === 'number' && Number.isFinite(e.retryAfter) ? retryAfterMs(String(e.retryAfter)) : undefined;
      const wait = Math.max(asked ?? MIN_RATE_LIMIT_WAIT_MS, MIN_RATE_LIMIT_WAIT_MS);
      return new ChannelError(`Slack ${method}: rate limited, retry after ${wait / 1000}s`, true, 'rate_limited', wait);
    }
    case 'slack_webapi_platform_error': {
      const error = e.data?.error;
      const code = typeof error === 'string' && SLACK_ERROR_CODE.test(error) ? error : 'unknown_error';
      return new ChannelError(`Slack ${method}: ${code}`, RETRYABLE_PLATFORM_ERRORS.has(code), code, undefined, { ambiguous: AMBIGUOUS_PLATFORM_ERRORS.has(code) });
    }
    case BAD_RESPONSE_ERROR:
      // Not Slack's answer: retried, and a post is looked for before it is sent again.
      return new ChannelError(`Slack ${method}: ${clipDetail(e.message ?? 'not a JSON answer', DETAIL_MAX * 2)}`, true, 'bad_response', undefined, { ambiguous: true });
    case 'slack_webapi_http_error': {
      const status = e.statusCode ?? 0;
      const retryable = status >= 500 || status === 408;
      return new ChannelError(`Slack ${method}: HTTP ${status}`, retryable, `http_${status}`, undefined, { ambiguous: retryable });
    }
    case 'slack_webapi_request_error':
      // A timeout or a dropped connection: the request may have reached Slack and been done.
      return new ChannelError(`Slack ${method}: request failed (${clipDetail(e.message ?? 'network error')})`, true, 'network', undefined, { ambiguous: true });
    default:
      // Not a Web API error (a bug on our side, a malformed response): retrying will not fix a
      // bug, and a permanent failure is surfaced in logs and metrics instead of looping.
      return new ChannelError(`Slack ${method}: ${clipDetail(e.message ?? String(err))}`, false, 'unexpected');
  }
}
