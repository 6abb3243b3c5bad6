import * as oidc from 'openid-client';

// The console's side of OIDC: authorization code flow with PKCE (S256), state and nonce,
// against the organisation's identity provider (or the embedded development one). Discovery
// happens on first use and is retried on the next sign-in if the provider was unreachable.

export interface IdentityProvider {
  issuer: string;
  clientId: string;
  clientSecret: string;
}

export interface OidcClient {
  authorizationUrl(p: { redirectUri: string; state: string; nonce: string; codeVerifier: string }): Promise<URL>;
  /** The ID token's claims once the code is exchanged and every check passed. */
  callback(p: { currentUrl: URL; state: string; nonce: string; codeVerifier: string }): Promise<Record<string, unknown>>;
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);

export function oidcClient(idp: () => Promise<IdentityProvider> | IdentityProvider): OidcClient {
  let config: Promise<oidc.Configuration> | undefined;
  const configuration = () => {
    config ??= Promise.resolve(idp()).then((p) => {
      const issuer = new URL(p.issuer);
      // Plain HTTP only for a provider on this machine (the development one); anything else must be HTTPS.
      const insecure = issuer.protocol === 'http:' && LOOPBACK.has(issuer.hostname);
      return oidc.discovery(issuer, p.clientId, p.clientSecret, undefined, insecure ? { execute: [oidc.allowInsecureRequests] } : undefined);
    });
    config.catch(() => (config = undefined));
    return config;
  };
  return {
    async authorizationUrl({ redirectUri, state, nonce, codeVerifier }) {
      const c = await configuration();
      return oidc.buildAuthorizationUrl(c, {
        redirect_uri: redirectUri,
        scope: 'openid email profile',
        code_challenge: await oidc.calculatePKCECodeChallenge(codeVerifier),
        code_challenge_method: 'S256',
        state,
        nonce,
      });
    },
    async callback({ currentUrl, state, nonce, codeVerifier }) {
      const c = await configuration();
      const tokens = await oidc.authorizationCodeGrant(c, currentUrl, { pkceCodeVerifier: codeVerifier, expectedState: state, expectedNonce: nonce, idTokenExpected: true });
      const claims = tokens.claims();
      if (!claims) throw new Error('the identity provider returned no ID token');
      return claims as Record<string, unknown>;
    },
  };
}
