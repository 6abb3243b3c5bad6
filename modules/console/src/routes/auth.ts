import type { FastifyInstance } from 'fastify';
import { DomainError } from '@countersign/contracts';
import { clearCookie, isLoopback, LOGIN_COOKIE, readCookie, SESSION_COOKIE, setCookie } from '../cookies.ts';
import type { ConsoleDeps } from '../deps.ts';
import { messagePage } from '../pages/layout.ts';
import { change } from '../signed-in.ts';

/** Only a console path may follow a sign-in: never another site (no open redirect). */
export function safeReturnTo(value: unknown): string {
  if (typeof value !== 'string' || !/^\/console(\/[\w\-./?=&%]*)?$/.test(value) || value.includes('//')) return '/console';
  // A dot segment (`/console/../x`, `%2e%2e` too) would leave the console once the browser
  // resolves it: same site, but not where sign-in promised to return.
  const path = value.split('?')[0]!;
  return path.split('/').some((segment) => /^(?:\.|%2e){1,2}$/i.test(segment)) ? '/console' : value;
}

export function authRoutes(app: FastifyInstance, deps: ConsoleDeps): void {
  const secure = () => !isLoopback(deps.publicUrl());
  const redirectUri = () => new URL('/console/auth/callback', deps.publicUrl()).href;

  app.get('/console/login', async (request, reply) => {
    if (!deps.oidc) {
      return reply.code(503).type('text/html; charset=utf-8').send(
        messagePage({
          title: 'Single sign-on is not configured',
          message: 'The console signs people in with the organisation\'s identity provider.',
          detail: 'Set COUNTERSIGN_OIDC_ISSUER, COUNTERSIGN_OIDC_CLIENT_ID and COUNTERSIGN_OIDC_CLIENT_SECRET (see the README), or run npm start for the embedded development provider.',
        }),
      );
    }
    const returnTo = safeReturnTo((request.query as Record<string, unknown>).returnTo);
    const login = await deps.sessions.startLogin(returnTo);
    const url = await deps.oidc.authorizationUrl({ redirectUri: redirectUri(), state: login.state, nonce: login.nonce, codeVerifier: login.codeVerifier });
    setCookie(reply, LOGIN_COOKIE, login.id, { path: '/console/auth', maxAgeSeconds: 600, secure: secure() });
    return reply.redirect(url.href, 303);
  });

  app.get('/console/auth/callback', async (request, reply) => {
    const query = request.query as Record<string, unknown>;
    clearCookie(reply, LOGIN_COOKIE, { path: '/console/auth', secure: secure() });
    const again = { href: '/console/login', label: 'Sign in again' };
    if (typeof query.error === 'string') {
      return reply.code(401).type('text/html; charset=utf-8').send(
        messagePage({ title: 'Sign-in did not complete', message: `The identity provider answered: ${query.error}${typeof query.error_description === 'string' ? ` (${query.error_description})` : ''}.`, action: again }),
      );
    }
    try {
      const login = await deps.sessions.finishLogin(readCookie(request, LOGIN_COOKIE), typeof query.state === 'string' ? query.state : undefined);
      const claims = await deps.oidc!.callback({ currentUrl: new URL(request.url, deps.publicUrl()), state: login.state, nonce: login.nonce, codeVerifier: login.codeVerifier });
      const { person, subject } = deps.sessions.personFor(claims);
      const { token } = await deps.sessions.open(person, subject);
      setCookie(reply, SESSION_COOKIE, token, { path: '/console', secure: secure() });
      return reply.redirect(login.returnTo, 303);
    } catch (err) {
      if (err instanceof DomainError && err.code === 'unknown_identity') {
        return reply.code(403).type('text/html; charset=utf-8').send(
          messagePage({ title: 'Sign-in refused', message: err.message, detail: 'Signing in needs exactly one directory person with this identity; nothing else was done.', code: err.code }),
        );
      }
      const message = err instanceof DomainError ? err.message : 'The identity provider\'s answer could not be checked; start again.';
      if (!(err instanceof DomainError)) deps.logger.warn({ err: (err as Error).message }, 'console sign-in failed');
      return reply.code(401).type('text/html; charset=utf-8').send(messagePage({ title: 'Sign-in did not complete', message, action: again }));
    }
  });

  app.post(
    '/console/logout',
    change(deps, async (_request, reply, who) => {
      await deps.sessions.logout(who.caller);
      // Its live streams (other tabs) say "ended" now, not at the next change or keep-alive.
      deps.live.endSession(who.caller.session.id);
      clearCookie(reply, SESSION_COOKIE, { path: '/console', secure: secure() });
      return reply.type('text/html; charset=utf-8').send(
        messagePage({ title: 'Signed out', message: 'Your console session has ended.', action: { href: '/console/login', label: 'Sign in' } }),
      );
    }),
  );
}
