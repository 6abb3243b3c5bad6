import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { DomainError, type ErrorCode, type FieldIssue } from '@countersign/contracts';
import { ROOT_FIELD, zodIssues, type ZodLikeIssue } from '@countersign/core';
import { PROBLEM_CONTENT_TYPE, PROBLEM_TYPE_BASE, sendProblem } from './problem.ts';
import { isUnavailableError, unavailableReason } from './unavailable.ts';

export { isUnavailableError, unavailableReason } from './unavailable.ts';

// Every failure leaves the API as a problem document with a stable code. Input problems are
// field-precise; server problems say nothing about internals (the log has them, keyed by the
// request id that the body and the x-request-id header both carry).

/** Code used for bad input on routes that do not say otherwise. */
type InvalidInputCode = Extract<ErrorCode, 'invalid_intent' | 'invalid_request'>;

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Which code a route's bad input is reported under; the intent route sets 'invalid_intent'. */
    invalidCode?: InvalidInputCode;
  }
}

function isZodError(err: unknown): err is Error & { issues: ZodLikeIssue[] } {
  return err instanceof Error && err.name === 'ZodError' && Array.isArray((err as { issues?: unknown }).issues);
}

/** Every zod issue as a dotted field path (the engine's mapping, shared). */
export function zodFieldIssues(issues: readonly ZodLikeIssue[]): FieldIssue[] {
  return zodIssues({ issues });
}

interface AjvLikeIssue {
  instancePath?: string;
  message?: string;
  params?: { additionalProperty?: string; missingProperty?: string };
}

/** Fastify's own JSON-schema validation, in case a route declares a schema instead of zod. */
function ajvFieldIssues(issues: readonly AjvLikeIssue[]): FieldIssue[] {
  return issues.map((issue) => {
    const segments = (issue.instancePath ?? '').split('/').filter((s) => s.length > 0);
    if (issue.params?.additionalProperty) return { field: [...segments, issue.params.additionalProperty].join('.'), message: 'unknown field' };
    if (issue.params?.missingProperty) return { field: [...segments, issue.params.missingProperty].join('.'), message: 'required' };
    return { field: segments.join('.') || ROOT_FIELD, message: issue.message ?? 'invalid' };
  });
}

export function invalidCodeFor(request: FastifyRequest): InvalidInputCode {
  return request.routeOptions.config?.invalidCode === 'invalid_intent' ? 'invalid_intent' : 'invalid_request';
}

/** Fastify errors about the request's framing, each with its code and a caller-facing message. */
const FASTIFY_INPUT_ERRORS: Readonly<Record<string, { code: ErrorCode; message: string }>> = {
  FST_ERR_CTP_INVALID_JSON_BODY: { code: 'invalid_request', message: 'malformed JSON body' },
  FST_ERR_CTP_EMPTY_JSON_BODY: { code: 'invalid_request', message: 'the request body is empty; a JSON body is required' },
  FST_ERR_CTP_BODY_TOO_LARGE: { code: 'payload_too_large', message: 'the request body is larger than this endpoint accepts' },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: { code: 'unsupported_media_type', message: 'the request body must be application/json' },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: { code: 'invalid_request', message: 'the request body does not match its Content-Length' },
  // Raised by the router before any route runs (frameworkErrors below).
  FST_ERR_BAD_URL: { code: 'invalid_request', message: 'the URL is not validly percent-encoded' },
  FST_ERR_MAX_PARAM_LENGTH: { code: 'invalid_request', message: 'a path parameter is longer than any valid id' },
};

/**
 * Maps any thrown value to the DomainError the client will see. Pure, so the mapping can be
 * tested without a server; anything unrecognised becomes `internal`.
 */
export function toDomainError(err: unknown, request: FastifyRequest): DomainError {
  if (err instanceof DomainError) return err;

  if (isZodError(err)) {
    return new DomainError(invalidCodeFor(request), 'The request is not valid.', { issues: zodFieldIssues(err.issues) });
  }

  const fe = (typeof err === 'object' && err !== null ? err : {}) as Partial<FastifyError> & { validation?: AjvLikeIssue[] };
  if (Array.isArray(fe.validation)) {
    return new DomainError(invalidCodeFor(request), 'The request is not valid.', { issues: ajvFieldIssues(fe.validation) });
  }
  const known = typeof fe.code === 'string' ? FASTIFY_INPUT_ERRORS[fe.code] : undefined;
  if (known) return new DomainError(known.code, known.message);
  // A custom body parser reports bad syntax as a SyntaxError marked 400. A bare SyntaxError
  // from our own code is a bug, not the caller's fault, so it stays a 500 below.
  if (err instanceof SyntaxError && fe.statusCode === 400) return new DomainError('invalid_request', 'malformed JSON body');

  if (isUnavailableError(err)) {
    return new DomainError('unavailable', 'A dependency is temporarily unavailable; retry later.');
  }

  // Remaining framework errors about the request itself (bad URL, bad header…) are the
  // caller's; their messages are Fastify's own and carry no internals.
  if (typeof fe.code === 'string' && fe.code.startsWith('FST_') && typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) {
    return new DomainError('invalid_request', fe.message ?? 'invalid request');
  }
  return new DomainError('internal', 'internal error');
}

export function errorHandler(err: unknown, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const domain = toDomainError(err, request);
  if (domain.code === 'internal') {
    request.log.error({ err }, 'request failed');
  } else if (domain.code === 'unavailable') {
    request.log.warn({ err, dependency: unavailableReason(err) }, 'dependency unavailable');
  } else {
    // Client errors: the code and the field names are enough; the input itself is never logged.
    request.log.info({ code: domain.code, fields: domain.issues.map((i) => i.field) }, 'request refused');
  }
  return sendProblem(reply, domain);
}

export function notFoundHandler(request: FastifyRequest, reply: FastifyReply): FastifyReply {
  return sendProblem(reply, new DomainError('not_found', `No route for ${request.method} ${request.url.split('?')[0]}.`));
}

/** Installs both handlers on `app` (and thereby on every plugin that does not override them). */
export function installErrorHandlers(app: FastifyInstance): void {
  app.setErrorHandler(errorHandler);
  app.setNotFoundHandler(notFoundHandler);
}

/**
 * Fastify's `frameworkErrors`: errors its router raises before a route is chosen (bad URL
 * encoding, an over-long path parameter). Without it Fastify answers them with its own JSON.
 */
export function sendFrameworkProblem(err: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  void errorHandler(err, request, reply);
}

/**
 * Fastify's `clientErrorHandler`: HTTP the parser cannot read at all (header overflow, a bad
 * request line, a client timeout). No request object exists yet, so the problem document is
 * written to the socket directly; then the connection closes, as Node itself would do.
 */
export function writeClientErrorProblem(err: Error & { code?: string }, socket: Socket): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const [status, code, detail] =
    err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
      ? [408, 'invalid_request', 'The request was not received in time.']
      : err.code === 'HPE_HEADER_OVERFLOW'
        ? [431, 'invalid_request', 'The request headers are larger than this server accepts.']
        : [400, 'invalid_request', 'The request is not valid HTTP.'];
  const body = JSON.stringify({ type: `${PROBLEM_TYPE_BASE}${code}`, title: 'Invalid request', status, detail, code });
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: ${PROBLEM_CONTENT_TYPE}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy(err);
}
