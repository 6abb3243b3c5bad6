import type { FastifyReply, FastifyRequest } from 'fastify';
import { DomainError } from '@countersign/contracts';
import { isAuditor, type SessionCaller } from '@countersign/core';
import { readCookie, SESSION_COOKIE } from './cookies.ts';
import type { ConsoleDeps, PageHandler, SignedIn } from './deps.ts';
import type { Viewer } from './pages/layout.ts';

export function viewerOf(deps: ConsoleDeps, caller: SessionCaller): Viewer {
  const p = caller.principal;
  return {
    personId: p.id,
    name: p.name,
    roles: p.kind === 'person' ? p.roles : [],
    csrfToken: caller.session.csrfToken,
    auditor: isAuditor(caller, deps.reads.policy),
  };
}

/** `activity: false`: a request the page makes by itself (a refresh), which must not keep the session from going idle. */
export async function signedIn(deps: ConsoleDeps, request: FastifyRequest, opts: { activity?: boolean } = {}): Promise<SignedIn | null> {
  const caller = await deps.sessions.authenticate(readCookie(request, SESSION_COOKIE), { touch: opts.activity !== false });
  return caller ? { caller, viewer: viewerOf(deps, caller) } : null;
}

/** A page for signed-in people; anyone else is sent to sign in and brought back. */
export function page(deps: ConsoleDeps, handler: PageHandler, opts: { activity?: boolean } = {}) {
  return async (request: FastifyRequest, reply: FastifyReply) => {
    const who = await signedIn(deps, request, opts);
    if (!who) return reply.redirect(`/console/login?returnTo=${encodeURIComponent(request.url)}`, 303);
    return handler(request, reply, who);
  };
}

/**
 * A state change: needs a live session (never redirected: a POST is not replayed after
 * sign-in), a same-origin Origin when the browser sends one, and the session's CSRF token in
 * the `_csrf` field or the X-CSRF-Token header. Nothing runs otherwise.
 */
export function change(deps: ConsoleDeps, handler: PageHandler) {
  return async (request: FastifyRequest, reply: FastifyReply) => {
    const who = await signedIn(deps, request);
    if (!who) throw new DomainError('unauthenticated', 'Your console session has ended (signed out, idle too long or expired). Sign in again; nothing was changed.');
    const origin = request.headers.origin;
    if (origin && origin !== new URL(deps.publicUrl()).origin) {
      throw new DomainError('forbidden', 'This request came from another site; nothing was changed.');
    }
    const body = (request.body ?? {}) as Record<string, unknown>;
    const header = request.headers['x-csrf-token'];
    const presented = typeof body._csrf === 'string' ? body._csrf : typeof header === 'string' ? header : undefined;
    deps.sessions.assertCsrf(who.caller, presented);
    return handler(request, reply, who);
  };
}
