// The one classifier for failed outbound HTTP requests (this SDK's calls, the server's webhooks
// and executors, the Teams connector): which network error it was, and whether the request can
// have reached the other side. Node's fetch reports a connection failure as
// TypeError('fetch failed') with the coded error as its cause (an AggregateError of them for
// happy-eyeballs connects); other clients put the code on the error itself.

/** The request never left: nothing can have been processed, so retrying is always safe. */
const NOT_SENT = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'UND_ERR_CONNECT_TIMEOUT']);
/** The connection broke or timed out after the request may have been sent. */
const CUT_OFF = new Set(['ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ECONNABORTED', 'UND_ERR_SOCKET', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'REQUEST_SEND_ERROR', 'timeout']);

const MAX_DEPTH = 4;

/**
 * A short, secret-free name for the failure: the first Node/undici error code along the cause
 * chain, or `timeout` for an AbortSignal.timeout(); undefined when there is none.
 */
export function networkErrorCode(err: unknown): string | undefined {
  let e: unknown = err;
  for (let depth = 0; e && typeof e === 'object' && depth < MAX_DEPTH; depth++) {
    const o = e as { code?: unknown; name?: unknown; cause?: unknown; errors?: unknown[] };
    if (o.name === 'TimeoutError') return 'timeout';
    // ABORT_ERR is the abort itself, not why: the reason (a TimeoutError) is further down.
    if (typeof o.code === 'string' && o.code !== 'ABORT_ERR') return o.code;
    e = o.cause ?? o.errors?.[0];
  }
  return undefined;
}

export interface NetworkFailure {
  code: string;
  /** false: the request never left; 'maybe': it may have been received and acted on. */
  sent: false | 'maybe';
}

/** A network failure with what it means for a retry; undefined when `err` is not one. */
export function networkFailure(err: unknown): NetworkFailure | undefined {
  const code = networkErrorCode(err);
  if (code === undefined) return undefined;
  if (NOT_SENT.has(code)) return { code, sent: false };
  if (CUT_OFF.has(code)) return { code, sent: 'maybe' };
  return undefined;
}
