import { z } from 'zod';
import { parseEnv, settingsIssue } from '@countersign/config/env';

// The Teams module's own configuration, parsed once at boot from the environment. A bad or
// missing value stops the service naming the variable (never its value: some are secrets).
//
// Three modes, never guessed:
//   off  — nothing Teams-related is set: no /api/messages route, no channel.
//   bot  — MICROSOFT_APP_ID + tenant + a password or certificate: every inbound request's Bot
//          Framework JWT is validated by the SDK.
//   dev  — TEAMS_DEV_MODE=1 and no credentials: explicit local development only (loopback
//          requests, unauthenticated), announced loudly at start; refused outright when
//          NODE_ENV=production.

const guid = z.guid('must be a GUID');
const flag = z.enum(['0', '1', 'true', 'false']).transform((v) => v === '1' || v === 'true');
const httpUrl = z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' });

const TeamsEnvSchema = z.object({
  TEAMS_DEV_MODE: flag.optional(),
  MICROSOFT_APP_ID: guid.optional(),
  MICROSOFT_APP_PASSWORD: z.string().min(1).optional(),
  /** Hex SHA-1 (or SHA-256) thumbprint of the bot's certificate, with MICROSOFT_APP_CERT_KEY_FILE. */
  MICROSOFT_APP_CERT_THUMBPRINT: z.string().regex(/^[0-9a-fA-F]{40}([0-9a-fA-F]{24})?$/, 'must be a hex SHA-1 or SHA-256 thumbprint').optional(),
  /** PEM file with the certificate's private key. */
  MICROSOFT_APP_CERT_KEY_FILE: z.string().min(1).optional(),
  MICROSOFT_APP_TENANT_ID: guid.optional(),
  /** The SDK's own name for the app type; only SingleTenant is supported (one tenant to check). */
  MicrosoftAppType: z.string().optional(),
  MICROSOFT_APP_TYPE: z.string().optional(),
  // Non-public clouds (and the tests' local issuer): where inbound tokens are checked and where
  // outbound tokens come from. All three together or none (the SDK's parameterized mode).
  TEAMS_CHANNEL_OPENID_METADATA_URL: httpUrl.optional(),
  TEAMS_CHANNEL_TOKEN_ISSUER: z.string().min(1).optional(),
  /** Login authority base; the tenant id is appended. Must be https (MSAL refuses anything else). */
  TEAMS_LOGIN_URL: z.url({ protocol: /^https$/, error: 'must be an https URL' }).optional(),
  /** Extra CA certificate (PEM file) trusted for the login endpoint only. */
  TEAMS_LOGIN_CA_FILE: z.string().min(1).optional(),
  /** Scope outbound tokens are requested for (custom clouds only); default https://api.botframework.com. */
  TEAMS_OAUTH_SCOPE: z.string().min(1).optional(),
  /** The Bot Framework token service (user sign-in; unused by countersign but required by the SDK). */
  TEAMS_OAUTH_API_URL: httpUrl.optional(),
  /** Only read to refuse development mode in production. */
  NODE_ENV: z.string().optional(),
});

export interface CloudEndpoints {
  openIdMetadataUrl: string;
  tokenIssuer: string;
  /** Login authority including the tenant, e.g. https://login.example/<tenant>. */
  loginUrl: string;
  /** The scope outbound tokens are requested for (the connector's audience). */
  oauthScope: string;
  loginCaFile: string | null;
  oauthApiUrl: string | null;
}

export type BotCredential =
  | { kind: 'password'; password: string }
  | { kind: 'certificate'; thumbprint: string; keyFile: string };

export type TeamsSettings =
  | { mode: 'off' }
  | { mode: 'dev'; tenantId: string }
  | { mode: 'bot'; appId: string; tenantId: string; credential: BotCredential; cloud: CloudEndpoints | null };

// Which mode the variables ask for, and whether they go together. A broken rule is reported on
// the variable to change, so every problem reads like a bad value would.
const TeamsSettingsSchema = TeamsEnvSchema.transform((e, ctx): TeamsSettings => {
  const fail = (variable: string, message: string) => {
    settingsIssue(ctx, variable, message);
    return z.NEVER;
  };
  const anyCredential = e.MICROSOFT_APP_PASSWORD || e.MICROSOFT_APP_CERT_THUMBPRINT || e.MICROSOFT_APP_CERT_KEY_FILE;
  if (!e.MICROSOFT_APP_ID && !e.TEAMS_DEV_MODE) {
    if (anyCredential || e.MICROSOFT_APP_TENANT_ID) return fail('MICROSOFT_APP_ID', 'MICROSOFT_APP_ID is required when Teams credentials or a tenant are set');
    return { mode: 'off' };
  }
  if (!e.MICROSOFT_APP_TENANT_ID) return fail('MICROSOFT_APP_TENANT_ID', 'MICROSOFT_APP_TENANT_ID is required: votes are only taken from this Entra tenant');
  const appType = e.MicrosoftAppType ?? e.MICROSOFT_APP_TYPE ?? 'SingleTenant';
  if (appType.toLowerCase() !== 'singletenant') return fail('MicrosoftAppType', 'only SingleTenant is supported (the bot accepts votes from one tenant)');
  if (e.TEAMS_DEV_MODE) {
    // Unauthenticated votes must not be one forgotten variable away from production.
    if (e.NODE_ENV?.trim().toLowerCase() === 'production') {
      return fail('TEAMS_DEV_MODE', 'TEAMS_DEV_MODE is refused with NODE_ENV=production: it accepts unauthenticated requests; unset TEAMS_DEV_MODE and configure MICROSOFT_APP_ID');
    }
    if (e.MICROSOFT_APP_ID || anyCredential) return fail('TEAMS_DEV_MODE', 'TEAMS_DEV_MODE=1 runs without credentials; unset it or unset MICROSOFT_APP_ID and its secrets');
    return { mode: 'dev', tenantId: e.MICROSOFT_APP_TENANT_ID };
  }
  const appId = e.MICROSOFT_APP_ID!;
  let credential: BotCredential;
  if (e.MICROSOFT_APP_CERT_THUMBPRINT || e.MICROSOFT_APP_CERT_KEY_FILE) {
    if (e.MICROSOFT_APP_PASSWORD) return fail('MICROSOFT_APP_PASSWORD', 'MICROSOFT_APP_PASSWORD and a certificate are both set; use one');
    if (!e.MICROSOFT_APP_CERT_THUMBPRINT) return fail('MICROSOFT_APP_CERT_THUMBPRINT', 'MICROSOFT_APP_CERT_THUMBPRINT is required with MICROSOFT_APP_CERT_KEY_FILE');
    if (!e.MICROSOFT_APP_CERT_KEY_FILE) return fail('MICROSOFT_APP_CERT_KEY_FILE', 'MICROSOFT_APP_CERT_KEY_FILE is required with MICROSOFT_APP_CERT_THUMBPRINT');
    credential = { kind: 'certificate', thumbprint: e.MICROSOFT_APP_CERT_THUMBPRINT.toUpperCase(), keyFile: e.MICROSOFT_APP_CERT_KEY_FILE };
  } else if (e.MICROSOFT_APP_PASSWORD) {
    credential = { kind: 'password', password: e.MICROSOFT_APP_PASSWORD };
  } else {
    return fail('MICROSOFT_APP_PASSWORD', 'MICROSOFT_APP_PASSWORD or MICROSOFT_APP_CERT_THUMBPRINT + MICROSOFT_APP_CERT_KEY_FILE is required with MICROSOFT_APP_ID');
  }

  const cloudKeys = ['TEAMS_CHANNEL_OPENID_METADATA_URL', 'TEAMS_CHANNEL_TOKEN_ISSUER', 'TEAMS_LOGIN_URL'] as const;
  const setKeys = cloudKeys.filter((k) => e[k] !== undefined);
  let cloud: CloudEndpoints | null = null;
  if (setKeys.length > 0) {
    const missing = cloudKeys.filter((k) => e[k] === undefined);
    if (missing.length > 0) return fail(missing[0]!, `${missing.join(', ')} required with ${setKeys.join(', ')} (custom cloud endpoints go together)`);
    cloud = {
      openIdMetadataUrl: e.TEAMS_CHANNEL_OPENID_METADATA_URL!,
      tokenIssuer: e.TEAMS_CHANNEL_TOKEN_ISSUER!,
      loginUrl: `${e.TEAMS_LOGIN_URL!.replace(/\/+$/, '')}/${e.MICROSOFT_APP_TENANT_ID}`,
      oauthScope: e.TEAMS_OAUTH_SCOPE ?? 'https://api.botframework.com',
      loginCaFile: e.TEAMS_LOGIN_CA_FILE ?? null,
      oauthApiUrl: e.TEAMS_OAUTH_API_URL ?? null,
    };
  } else if (e.TEAMS_LOGIN_CA_FILE || e.TEAMS_OAUTH_SCOPE || e.TEAMS_OAUTH_API_URL) {
    const variable = e.TEAMS_LOGIN_CA_FILE ? 'TEAMS_LOGIN_CA_FILE' : e.TEAMS_OAUTH_SCOPE ? 'TEAMS_OAUTH_SCOPE' : 'TEAMS_OAUTH_API_URL';
    return fail(variable, 'TEAMS_LOGIN_CA_FILE / TEAMS_OAUTH_SCOPE / TEAMS_OAUTH_API_URL only apply with custom cloud endpoints (TEAMS_LOGIN_URL …)');
  }
  return { mode: 'bot', appId, tenantId: e.MICROSOFT_APP_TENANT_ID, credential, cloud };
});

export function parseTeamsSettings(env: NodeJS.ProcessEnv): TeamsSettings {
  return parseEnv(TeamsSettingsSchema, env, 'Teams');
}
