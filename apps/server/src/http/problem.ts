import type { FastifyReply } from 'fastify';
import type { DomainError, ErrorCode, FieldIssue } from '@countersign/contracts';

// RFC 9457 problem details. The one place where a domain error code becomes an HTTP status:
// routes and the engine only ever throw DomainError, so this table is the whole API surface.

export const PROBLEM_CONTENT_TYPE = 'application/problem+json; charset=utf-8';
export const PROBLEM_TYPE_BASE = 'https://countersign.dev/problems/';
/** Seconds a client should wait before retrying a 503 (database/Redis unreachable, not ready). */
export const RETRY_AFTER_SECONDS = 5;
export const WWW_AUTHENTICATE = 'Bearer realm="countersign"';

const STATUS_BY_CODE: Readonly<Record<ErrorCode, number>> = {
  invalid_intent: 400,
  invalid_request: 400,
  unauthenticated: 401,
  // An API key that maps to no current directory principal is a credential problem, not a
  // permission problem: the caller must fix its key.
  unknown_principal: 401,
  forbidden: 403,
  self_approval: 403,
  not_eligible: 403,
  delegation_not_allowed: 403,
  not_overridable: 403,
  // The channel identity is authentic but maps to no directory person: the vote is refused.
  unknown_identity: 403,
  not_found: 404,
  already_voted: 409,
  already_decided: 409,
  expired: 409,
  idempotency_conflict: 409,
  // A release token can be redeemed once; the second redemption is refused.
  already_redeemed: 409,
  // The release token does not release anything (bad signature, expired, wrong audience/intent).
  invalid_release_token: 403,
  payload_too_large: 413,
  unsupported_media_type: 415,
  // Well-formed input missing something the rule demands (e.g. an override's reason).
  reason_required: 422,
  // A request budget is spent (http/rate-limit.ts); Retry-After says when the next one fits.
  rate_limited: 429,
  internal: 500,
  unavailable: 503,
};

const TITLE_BY_CODE: Readonly<Record<ErrorCode, string>> = {
  invalid_intent: 'Invalid intent',
  invalid_request: 'Invalid request',
  unauthenticated: 'Unauthenticated',
  unknown_principal: 'Unknown principal',
  forbidden: 'Forbidden',
  self_approval: 'Self-approval is not allowed',
  not_eligible: 'Not eligible to decide',
  delegation_not_allowed: 'Delegation not allowed',
  not_overridable: 'Not overridable',
  unknown_identity: 'Unknown identity',
  not_found: 'Not found',
  already_voted: 'Already voted',
  already_decided: 'Already decided',
  expired: 'Expired',
  idempotency_conflict: 'Idempotency key conflict',
  already_redeemed: 'Release token already redeemed',
  invalid_release_token: 'Invalid release token',
  payload_too_large: 'Payload too large',
  unsupported_media_type: 'Unsupported media type',
  reason_required: 'Reason required',
  rate_limited: 'Too many requests',
  internal: 'Internal error',
  unavailable: 'Service unavailable',
};

/** Never echo an internal error's message: it may carry SQL, hostnames or intent content. */
const INTERNAL_DETAIL = 'An internal error occurred. Quote the requestId when reporting it.';

const RESERVED_MEMBERS = new Set(['type', 'title', 'status', 'detail', 'code', 'instance', 'requestId', 'errors', 'extra']);

export interface ProblemBody {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: ErrorCode;
  instance?: string;
  requestId: string;
  errors?: FieldIssue[];
  [extension: string]: unknown;
}

export function statusFor(code: ErrorCode): number {
  // Fail closed: a code missing from the table (a contracts change not mirrored here) is a 500.
  return STATUS_BY_CODE[code] ?? 500;
}

export function titleFor(code: ErrorCode): string {
  return TITLE_BY_CODE[code] ?? TITLE_BY_CODE.internal;
}

export function problemType(code: ErrorCode): string {
  return `${PROBLEM_TYPE_BASE}${code}`;
}

/**
 * Builds the body. DomainError.extra becomes RFC 9457 extension members; an extra key that would
 * shadow a standard member (e.g. `status`) is kept under a nested `extra` object instead, so
 * neither the contract nor the information is lost.
 */
export function problemBody(err: DomainError, ctx: { requestId: string; instance?: string }): ProblemBody {
  const code = err.code;
  const internal = statusFor(code) >= 500 && code !== 'unavailable';
  const extensions: Record<string, unknown> = {};
  const shadowed: Record<string, unknown> = {};
  if (!internal) {
    for (const [key, value] of Object.entries(err.extra)) {
      if (RESERVED_MEMBERS.has(key)) shadowed[key] = value;
      else extensions[key] = value;
    }
  }
  const body: ProblemBody = {
    ...extensions,
    type: problemType(code),
    title: titleFor(code),
    status: statusFor(code),
    detail: internal ? INTERNAL_DETAIL : err.message,
    code,
    requestId: ctx.requestId,
  };
  if (ctx.instance !== undefined) body.instance = ctx.instance;
  if (!internal && err.issues.length > 0) body.errors = err.issues.map((i) => ({ field: i.field, message: i.message }));
  if (Object.keys(shadowed).length > 0) body.extra = shadowed;
  return body;
}

/** The request path without its query string: queries may carry secrets, paths do not. */
export function instanceOf(url: string): string {
  const q = url.indexOf('?');
  return q === -1 ? url : url.slice(0, q);
}

/** Sends `err` as application/problem+json, with the headers its status calls for. */
export function sendProblem(reply: FastifyReply, err: DomainError): FastifyReply {
  const body = problemBody(err, { requestId: reply.request.id, instance: instanceOf(reply.request.url) });
  if (body.status === 401 && !reply.hasHeader('www-authenticate')) reply.header('www-authenticate', WWW_AUTHENTICATE);
  if (body.status === 503 && !reply.hasHeader('retry-after')) reply.header('retry-after', String(RETRY_AFTER_SECONDS));
  // Errors are about one request at one moment; never let a cache replay them.
  reply.header('cache-control', 'no-store');
  return reply.code(body.status).type(PROBLEM_CONTENT_TYPE).send(body);
}
