import type { FastifyReply, FastifyRequest, preHandlerAsyncHookHandler } from 'fastify';
import { DomainError } from '@countersign/contracts';
import { WWW_AUTHENTICATE } from './problem.ts';

// Who is acting is never taken from the payload: it is whoever the bearer credential belongs
// to. This file only extracts the credential and fails closed; what a token means (API key,
// person token) is the caller's `authenticate`.

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by bearerAuth; read it through `authOf<T>(request)`, which refuses when absent. */
    auth: unknown;
  }
}

/** RFC 6750 b64token, bounded: anything else is not a token we could have issued. */
const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i;
const MAX_HEADER_LENGTH = 4096;

/** The token from `Authorization: Bearer <token>`, or a DomainError saying what is wrong. */
export function bearerToken(header: string | undefined): string | DomainError {
  if (header === undefined || header.trim() === '') {
    return new DomainError('unauthenticated', 'Missing Authorization header; send "Authorization: Bearer <token>".');
  }
  if (header.length > MAX_HEADER_LENGTH) return new DomainError('unauthenticated', 'The Authorization header is too long.');
  if (!/^Bearer(\s|$)/i.test(header)) return new DomainError('unauthenticated', 'The Authorization scheme must be Bearer.');
  const token = BEARER.exec(header)?.[1];
  if (token === undefined) return new DomainError('unauthenticated', 'The bearer token is empty or malformed.');
  return token;
}

/** How many Authorization headers the client sent (rawHeaders alternates name, value). */
export function authorizationHeaderCount(rawHeaders: readonly string[]): number {
  let count = 0;
  for (let i = 0; i < rawHeaders.length; i += 2) if (rawHeaders[i]!.toLowerCase() === 'authorization') count++;
  return count;
}

/**
 * preHandler factory: resolves the bearer token with `authenticate` and stores the result on
 * `request.auth`. No token, a bad token, or `authenticate` → null: 401. `authenticate` throwing
 * because the store is unreachable: 503 (see errors.ts); any other throw: 500. Never lets through.
 */
export function bearerAuth<A>(authenticate: (token: string) => Promise<A | null>): preHandlerAsyncHookHandler {
  return async function bearerAuthHook(request: FastifyRequest, reply: FastifyReply): Promise<void> {
    request.auth = null; // never inherit a value from an earlier hook
    // Node keeps the first of several Authorization headers and drops the rest silently;
    // which credential acts must never depend on header order, so two are refused.
    const presented = authorizationHeaderCount(request.raw.rawHeaders);
    if (presented > 1) throw new DomainError('invalid_request', `Send one Authorization header; this request has ${presented}.`);
    const token = bearerToken(request.headers.authorization);
    if (token instanceof DomainError) throw token;

    // A throw (store unreachable, bug) propagates as is: the error handler turns connectivity
    // errors into 503 and logs the original, anything else into 500. Either way: no access.
    const auth = await authenticate(token);
    if (auth === null || auth === undefined) {
      // RFC 6750 §3: a presented but rejected token is error="invalid_token".
      reply.header('www-authenticate', `${WWW_AUTHENTICATE}, error="invalid_token"`);
      throw new DomainError('unauthenticated', 'The bearer token is not valid.');
    }
    request.auth = auth;
  };
}

/**
 * The authenticated context of a request that went through bearerAuth. Throws
 * `unauthenticated` when there is none, so a route that forgot its preHandler refuses rather
 * than acting for nobody. The type parameter is the caller's promise, as with any decoration.
 */
export function authOf<A>(request: FastifyRequest): A {
  if (request.auth === null || request.auth === undefined) {
    throw new DomainError('unauthenticated', 'This endpoint requires a bearer token.');
  }
  return request.auth as A;
}
