// The one reader of Redis failures (ioredis, as BullMQ and the server use it): is Redis
// unreachable right now? Losing Redis loses no decision, so callers answer "retry later"
// (503) rather than failing the request for good; anything not recognised here is not
// treated as transient (fail closed).

const MAX_DEPTH = 4;

/** Socket-level failures of the connection (Node `err.code`). */
const SOCKET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'ECONNABORTED']);
/** ioredis gave up on a command after its retries. */
const ERROR_NAMES = new Set(['MaxRetriesPerRequestError']);
/** ioredis failures that carry no code. */
const MESSAGES = ['Connection is closed.', "Stream isn't writeable and enableOfflineQueue options is false"];

/** A short, secret-free label when Redis is unreachable; undefined for anything else. */
export function redisUnavailableReason(err: unknown): string | undefined {
  let e: unknown = err;
  for (let depth = 0; e && typeof e === 'object' && depth < MAX_DEPTH; depth++) {
    const o = e as { code?: unknown; name?: unknown; message?: unknown; cause?: unknown };
    if (typeof o.code === 'string' && SOCKET_CODES.has(o.code)) return o.code;
    if (typeof o.name === 'string' && ERROR_NAMES.has(o.name)) return o.name;
    if (typeof o.message === 'string' && MESSAGES.some((m) => (o.message as string).includes(m))) return 'connection';
    e = o.cause;
  }
  return undefined;
}
