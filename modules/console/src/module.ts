import { randomBytes } from 'node:crypto';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { DomainError } from '@countersign/contracts';
import { peopleOf, PersonSessions } from '@countersign/core';
import { OutboxListener } from '@countersign/db';
import { StateKey, type ServiceContext, type ServiceModule } from '@countersign/modules';
import type { ConsoleDeps } from './deps.ts';
import { startDevProvider } from './dev-provider.ts';
import { parseFormBody } from './form-body.ts';
import { oidcClient, type IdentityProvider } from './oidc-client.ts';
import { messagePage } from './pages/layout.ts';
import { assetRoutes } from './routes/assets.ts';
import { authRoutes } from './routes/auth.ts';
import { LiveStreams, liveRoutes } from './routes/live.ts';
import { pageRoutes } from './routes/pages.ts';
import { installSecurityHeaders } from './security-headers.ts';
import { parseConsoleSettings, type ConsoleSettings } from './settings.ts';

export const DEV_CLIENT_ID = 'countersign-console';
const STATUS: Partial<Record<string, number>> = { unauthenticated: 401, forbidden: 403, not_found: 404, invalid_request: 400, unavailable: 503 };

interface ConsoleState {
  settings: ConsoleSettings;
  listeners: Set<() => void>;
  live: LiveStreams;
  devIdp?: { resolve(p: IdentityProvider): void; reject(e: Error): void };
}
const STATE = new StateKey<ConsoleState>('console');

/** The reviewers' and auditors' web console at /console, with single sign-on (OIDC). */
export const consoleModule: ServiceModule = {
    name: 'console',
    register(ctx) {
      if (ctx.role === 'worker') return;
      const s = parseConsoleSettings(ctx.env);
      const listeners = new Set<() => void>();
      const onChange = (listener: () => void) => {
        listeners.add(listener);
        return () => listeners.delete(listener);
      };
      const sessions = new PersonSessions(ctx.db.sessions, ctx.config, ctx.clock, {
        idleSeconds: s.COUNTERSIGN_CONSOLE_IDLE_MINUTES * 60,
        absoluteSeconds: s.COUNTERSIGN_CONSOLE_SESSION_HOURS * 3600,
        claim: s.COUNTERSIGN_OIDC_CLAIM,
      });
      const state: ConsoleState = { settings: s, listeners, live: new LiveStreams(sessions, onChange) };
      ctx.state.set(STATE, state);
      let idp: Promise<IdentityProvider> | IdentityProvider | undefined;
      if (s.COUNTERSIGN_OIDC_ISSUER) {
        idp = { issuer: s.COUNTERSIGN_OIDC_ISSUER, clientId: s.COUNTERSIGN_OIDC_CLIENT_ID!, clientSecret: s.COUNTERSIGN_OIDC_CLIENT_SECRET! };
      } else if (s.COUNTERSIGN_OIDC_DEV) {
        // The development provider needs the console's own URL, known once listening: start().
        idp = new Promise<IdentityProvider>((resolve, reject) => (state.devIdp = { resolve, reject }));
        idp.catch(() => undefined);
      }
      const deps: ConsoleDeps = {
        gate: ctx.gate,
        reads: ctx.reads,
        audit: ctx.audit,
        sessions,
        config: ctx.config,
        clock: ctx.clock,
        logger: ctx.logger,
        settings: s,
        oidc: idp ? oidcClient(() => idp) : null,
        publicUrl: ctx.publicUrl,
        policyPath: path.resolve(ctx.rootDir, s.COUNTERSIGN_POLICY),
        channels: ctx.channelCatalog,
        onChange,
        live: state.live,
      };
      void ctx.app.register(async (scope: FastifyInstance) => {
        // Strict UTF-8, no NUL (form-body.ts): a lenient decode altered what the person typed.
        scope.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'buffer', bodyLimit: 16 * 1024 }, (req, body, done) => {
          const fields = parseFormBody(body as Buffer, req.headers['content-type']);
          if (fields instanceof DomainError) return done(fields, undefined);
          done(null, fields);
        });
        installSecurityHeaders(scope);
        scope.setErrorHandler((err, request, reply) => {
          // Framework errors about the request itself (a wrong content type, a bad body) are
          // the caller's: mapped like the API does, never a 500.
          const domain = err instanceof DomainError ? err : toRequestError(err);
          if (!domain) request.log.error({ err }, 'console request failed');
          const code = domain?.code ?? 'internal';
          const status = STATUS[code] ?? (domain ? 400 : 500);
          const signIn = code === 'unauthenticated' ? { action: { href: '/console/login', label: 'Sign in again' } } : {};
          return reply
            .code(status)
            .type('text/html; charset=utf-8')
            .send(messagePage({ title: status === 404 ? 'Not found' : 'Refused', message: domain?.message ?? 'Something went wrong; quote the request id when reporting it.', code, ...signIn }));
        });
        assetRoutes(scope);
        authRoutes(scope, deps);
        pageRoutes(scope, deps);
        liveRoutes(scope, deps);
      });
    },

    async start(ctx: ServiceContext) {
      const state = ctx.state.get(STATE);
      if (ctx.role === 'worker' || !state) return;
      const { settings: s, listeners, devIdp } = state;
      const outbox = new OutboxListener(ctx.databaseUrl ?? String(ctx.env.DATABASE_URL), () => listeners.forEach((l) => l()), ctx.logger);
      await outbox.start();
      ctx.onStop(() => outbox.close());
      if (devIdp && s.COUNTERSIGN_OIDC_DEV) {
        try {
          const clientSecret = randomBytes(24).toString('base64url');
          const provider = await startDevProvider({
            redirectUri: new URL('/console/auth/callback', ctx.publicUrl()).href,
            clientId: DEV_CLIENT_ID,
            clientSecret,
            personById: (id) => peopleOf(ctx.config).find((p) => p.id === id),
            people: () => peopleOf(ctx.config),
          });
          ctx.onStop(() => provider.close());
          devIdp.resolve({ issuer: provider.issuer, clientId: DEV_CLIENT_ID, clientSecret });
        } catch (err) {
          devIdp.reject(err as Error);
          throw err;
        }
      }
    },
};

/** The console's live streams on a service (how many each session holds): for tests and diagnostics. */
export function liveStreamsOf(ctx: Pick<ServiceContext, 'state'>): LiveStreams | undefined {
  return ctx.state.get(STATE)?.live;
}

/** Fastify's own 4xx errors (FST_ERR_CTP_*, a bad URL…) as the API's problem codes. */
function toRequestError(err: unknown): DomainError | null {
  const e = err as { code?: unknown; statusCode?: unknown };
  if (typeof e.code !== 'string' || !e.code.startsWith('FST_') || typeof e.statusCode !== 'number' || e.statusCode < 400 || e.statusCode >= 500) return null;
  if (e.statusCode === 415) return new DomainError('unsupported_media_type', 'This form must be sent as application/x-www-form-urlencoded.');
  if (e.statusCode === 413) return new DomainError('payload_too_large', 'The form is larger than the console accepts.');
  return new DomainError('invalid_request', 'The request is not valid.');
}
