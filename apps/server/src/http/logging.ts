import { pooledRandomBytes } from '@countersign/contracts';
import { createRequire } from 'node:module';
import type { IncomingMessage } from 'node:http';
import type { LoggerOptions } from 'pino';

// Intents, votes and tokens carry privileged detail: the log gets who/what/when of a request
// (method, path, status, duration, request id), never a body, a credential or a query secret.

const CENSOR = '[redacted]';

/** Keys whose values are secrets or privileged payloads wherever they appear in a log object. */
const SECRET_KEYS = [
  'apiKey',
  'token',
  'secret',
  'password',
  'releaseToken',
  'accessToken',
  'refreshToken',
  'botToken',
  'signingSecret',
  'clientSecret',
  'appPassword',
  'signingKey',
  'privateKey',
  'privateJwk',
  'databaseUrl',
  'redisUrl',
  'connectionString',
  'intent',
  'params',
] as const;

/**
 * pino (fast-redact) paths. A `*` matches one level only, so each key is listed at the top level
 * and at two nested depths, which covers `log.info({ intent })`, `{ action: { params } }`, and
 * `{ res: { body: { releaseToken } } }`-shaped objects.
 */
export const REDACT_PATHS: readonly string[] = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-api-key"]',
  'req.headers["x-slack-signature"]',
  'req.body',
  'req.query',
  'res.headers["set-cookie"]',
  'headers.authorization',
  'headers.cookie',
  'body',
  '*.body',
  ...SECRET_KEYS.flatMap((key) => [key, `*.${key}`, `*.*.${key}`]),
];

/** Query parameters whose values are safe to log; everything else is redacted. */
const LOGGABLE_QUERY_KEYS = new Set(['wait', 'format', 'from', 'to', 'limit', 'cursor']);

/** The URL with every query value not known to be harmless replaced by `[redacted]`. */
export function sanitizeUrl(url: string): string {
  const q = url.indexOf('?');
  if (q === -1) return url;
  const path = url.slice(0, q);
  const parts = url
    .slice(q + 1)
    .split('&')
    .filter((p) => p.length > 0)
    .map((pair) => {
      const eq = pair.indexOf('=');
      const key = eq === -1 ? pair : pair.slice(0, eq);
      if (eq === -1) return key;
      return LOGGABLE_QUERY_KEYS.has(safeDecode(key)) ? pair : `${key}=${CENSOR}`;
    });
  return parts.length > 0 ? `${path}?${parts.join('&')}` : path;
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s; // an undecodable key is not on the allow list, so its value gets redacted
  }
}

interface LoggableRequest {
  id?: unknown;
  method?: string;
  url?: string;
  ip?: string;
  routeOptions?: { url?: string };
}
interface LoggableReply {
  statusCode?: number;
}

/** Serializers Fastify's request logger uses: named fields only, so no body can slip in. */
export const serializers = {
  req(req: LoggableRequest) {
    return {
      method: req.method,
      url: typeof req.url === 'string' ? sanitizeUrl(req.url) : undefined,
      route: req.routeOptions?.url,
      remoteAddress: req.ip,
    };
  },
  res(reply: LoggableReply) {
    return { statusCode: reply.statusCode };
  },
};

export interface LoggerConfig {
  level: string;
  /** Human-readable output for local development; needs the optional `pino-pretty` package. */
  pretty?: boolean;
}

export function loggerOptions(config: LoggerConfig): LoggerOptions {
  const options: LoggerOptions = {
    level: config.level,
    redact: { paths: [...REDACT_PATHS], censor: CENSOR },
    serializers,
    base: { service: 'countersign' },
  };
  if (config.pretty) {
    // Fail at boot with the fix, rather than at the first log line inside a worker thread.
    try {
      createRequire(import.meta.url).resolve('pino-pretty');
    } catch {
      throw new Error('Pretty logs need the pino-pretty package: npm install -D pino-pretty -w @countersign/server');
    }
    options.transport = { target: 'pino-pretty', options: { translateTime: 'SYS:standard', ignore: 'pid,hostname' } };
  }
  return options;
}

/** Header both read (to continue a caller's trace) and echoed on every response. */
export const REQUEST_ID_HEADER = 'x-request-id';
const SANE_REQUEST_ID = /^[A-Za-z0-9._-]{1,100}$/;

/**
 * Fastify `genReqId`: keeps a caller's x-request-id when it is short and plain (it ends up in
 * logs and headers, so anything else could inject), otherwise mints `req_…`.
 */
export function genReqId(req: IncomingMessage): string {
  const incoming = req.headers[REQUEST_ID_HEADER];
  if (typeof incoming === 'string' && SANE_REQUEST_ID.test(incoming)) return incoming;
  return `req_${pooledRandomBytes(12).toString('base64url')}`;
}
