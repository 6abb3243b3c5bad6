import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type Provider from 'oidc-provider';
import { escapeHtml } from './html.ts';

// The embedded identity provider for development (`npm start`, tests): a real OIDC provider
// (npm `oidc-provider`) whose accounts are the directory's people, so a newcomer signs in as
// alice or bob with nothing to set up. Any password is accepted: it is for development only
// and refuses to start with NODE_ENV=production. It listens on loopback only.

export interface DevProviderOptions {
  /** Where the console receives the authorization code. */
  redirectUri: string;
  clientId: string;
  clientSecret: string;
  /** Directory people by id (read at sign-in, so directory reloads count). */
  personById: (id: string) => { id: string; email: string; name: string } | undefined;
  /** Everyone who may be offered on the sign-in page. */
  people: () => readonly { id: string; name: string }[];
  port?: number;
}

export interface DevProvider {
  issuer: string;
  close(): Promise<void>;
}

export async function startDevProvider(opts: DevProviderOptions): Promise<DevProvider> {
  if (process.env.NODE_ENV === 'production') {
    throw new Error('the embedded development identity provider refuses to run with NODE_ENV=production');
  }
  const server = http.createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const issuer = `http://127.0.0.1:${port}`;
  // Loaded only when the development provider starts: importing oidc-provider at module load
  // would make every process that composes the console pay for (and log about) it.
  const { default: OidcProvider } = await import('oidc-provider');
  const provider = new OidcProvider(issuer, {
    clients: [
      {
        client_id: opts.clientId,
        client_secret: opts.clientSecret,
        redirect_uris: [opts.redirectUri],
        post_logout_redirect_uris: [new URL('/console', opts.redirectUri).href],
        grant_types: ['authorization_code'],
        response_types: ['code'],
        token_endpoint_auth_method: 'client_secret_post',
      },
    ],
    pkce: { required: () => true },
    // Our own sign-in page (below) instead of the library's, which loads web fonts from a CDN.
    features: { devInteractions: { enabled: false } },
    interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
    // The claims of the granted scopes go into the ID token itself: the console reads only that.
    conformIdTokenClaims: false,
    claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'] },
    cookies: { keys: [randomBytes(32).toString('hex')] },
    // An unknown login still gets an account (with an address no one has), so the console's
    // refusal page can be seen: the console, not the provider, decides who may sign in.
    findAccount: (_ctx, id) => ({
      accountId: id,
      claims: () => {
        const person = opts.personById(id);
        return { sub: id, email: person?.email ?? `${id}@unknown.invalid`, email_verified: true, name: person?.name ?? id };
      },
    }),
    // The console is a first-party client: no consent screen.
    loadExistingGrant: async (ctx) => {
      const oidc = ctx.oidc;
      const grantId = oidc.result?.consent?.grantId ?? oidc.session!.grantIdFor(oidc.client!.clientId);
      if (grantId) return oidc.provider.Grant.find(grantId);
      const grant = new oidc.provider.Grant({ clientId: oidc.client!.clientId, accountId: oidc.session!.accountId! });
      grant.addOIDCScope('openid email profile');
      await grant.save();
      return grant;
    },
  });
  // oidc-provider warns loudly about development-only defaults (its signing keys, the dev
  // interactions): true, and said above; keep the first screen readable.
  provider.on('server_error', () => undefined);
  const callback = provider.callback();
  server.on('request', (req, res) => {
    if (req.url === '/favicon.ico') {
      res.writeHead(204).end();
      return;
    }
    if (req.url?.startsWith('/interaction/')) {
      signInPage(provider, opts.people(), req, res).catch((err: Error) => {
        res.writeHead(400, { 'content-type': 'text/plain; charset=utf-8' }).end(`sign-in failed: ${err.message}`);
      });
      return;
    }
    callback(req, res);
  });
  return {
    issuer,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

const PAGE_CSP = "default-src 'none'; style-src 'unsafe-inline'; form-action 'self' http://127.0.0.1:*; base-uri 'none'; frame-ancestors 'none'";

/**
 * The development provider's sign-in: type a login (a directory id, or anything else to see
 * the console refuse it) with any password. GET shows the form, POST finishes the login.
 */
async function signInPage(provider: Provider, people: readonly { id: string; name: string }[], req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  const details = await provider.interactionDetails(req, res);
  if (req.method === 'POST') {
    let body = '';
    for await (const chunk of req) body += chunk;
    const login = new URLSearchParams(body).get('login')?.trim();
    if (!login) throw new Error('a login is required');
    await provider.interactionFinished(req, res, { login: { accountId: login } }, { mergeWithLastSubmission: false });
    return;
  }
  const list = people.map((p) => `<li><code>${escapeHtml(p.id)}</code> ${escapeHtml(p.name)}</li>`).join('');
  res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'content-security-policy': PAGE_CSP, 'cache-control': 'no-store' });
  res.end(`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Sign in (development identity provider)</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:34rem;margin:2rem auto;padding:0 1rem;color:#1a1a1a}label{display:block;font-weight:600;margin-top:.75rem}input{font:inherit;width:100%;padding:.4rem;border:1px solid #767676}button{font:inherit;margin-top:1rem;padding:.45rem 1.2rem;background:#0b5394;color:#fff;border:0;border-radius:.3rem}.note{background:#fff4e5;border-left:4px solid #7a4d00;padding:.5rem 1rem}</style></head>
<body><h1>Sign in</h1><p class="note">Development identity provider embedded in <code>npm start</code>: any password works. It refuses to run with NODE_ENV=production.</p>
<form method="post" action="/interaction/${escapeHtml(details.uid)}"><label for="login">Login (a directory id)</label><input id="login" name="login" autocomplete="username" required autofocus>
<label for="password">Password</label><input id="password" name="password" type="password" autocomplete="current-password"><button type="submit">Sign in</button></form>
<h2>Demo people</h2><ul>${list}</ul></body></html>`);
}
