import fs from 'node:fs';
import { ConfidentialClientApplication, LogLevel, type Configuration } from '@azure/msal-node';
import { ConfigurationBotFrameworkAuthentication, type ConfigurationBotFrameworkAuthenticationOptions } from 'botbuilder';
import {
  AuthenticationError,
  BotFrameworkAuthentication,
  ConnectorFactory,
  MsalServiceClientCredentialsFactory,
  type AuthenticateRequestResult,
  type BotFrameworkClient,
  type ClaimsIdentity,
  type ConnectorClient,
  type UserTokenClient,
} from 'botframework-connector';
import type { Activity } from 'botbuilder';
import type { Logger } from 'pino';
import type { TeamsSettings } from './settings.ts';

// Bot Framework authentication, both directions, configured through the SDK:
//  - inbound: ConfigurationBotFrameworkAuthentication validates every request's JWT (issuer,
//    signature against the OpenID metadata's keys, audience = our app id, serviceUrl claim,
//    Teams endorsement). Custom endpoints (non-public clouds, the tests' local issuer) are the
//    SDK's own parameterized settings.
//  - outbound: the SDK's MsalServiceClientCredentialsFactory with an MSAL confidential client we
//    build (password or certificate, single tenant). Building it ourselves is what lets a custom
//    login endpoint work at all: MSAL only accepts https authorities, and a private cloud's (or
//    the tests') login endpoint may need an extra CA, which only our own client can be given.

const PUBLIC_LOGIN = 'https://login.microsoftonline.com';
const PUBLIC_OAUTH_API = 'https://api.botframework.com';
const PUBLIC_CALLER_ID = 'urn:botframework:azure';
const PUBLIC_CHANNEL_ISSUER = 'https://api.botframework.com';

export interface BotAuth {
  auth: BotFrameworkAuthentication;
  /** The bot's app id ('' in dev mode: the SDK then skips authentication). */
  appId: string;
}

export function createBotAuth(settings: Exclude<TeamsSettings, { mode: 'off' }>, logger: Logger): BotAuth {
  if (settings.mode === 'dev') {
    // No app id: the SDK's own "authentication disabled" mode (its credential factory has no
    // app id), so no JWT checks and no outbound tokens.
    return { auth: new CountersignBotAuthentication(new ConfigurationBotFrameworkAuthentication({})), appId: '' };
  }
  const { appId, tenantId, credential, cloud } = settings;
  const authority = cloud?.loginUrl ?? `${PUBLIC_LOGIN}/${tenantId}`;
  const msalConfig: Configuration = {
    auth: {
      clientId: appId,
      authority,
      ...(credential.kind === 'password'
        ? { clientSecret: credential.password }
        : {
            clientCertificate: {
              ...(credential.thumbprint.length === 64 ? { thumbprintSha256: credential.thumbprint } : { thumbprint: credential.thumbprint }),
              privateKey: fs.readFileSync(credential.keyFile, 'utf8'),
            },
          }),
      // A custom login host is trusted as given (MSAL would otherwise ask Microsoft's instance
      // discovery about it).
      ...(cloud ? { knownAuthorities: [new URL(authority).host] } : {}),
    },
    system: {
      ...(cloud?.loginCaFile ? { customAgentOptions: { ca: fs.readFileSync(cloud.loginCaFile, 'utf8') } } : {}),
      loggerOptions: {
        piiLoggingEnabled: false,
        logLevel: LogLevel.Warning,
        loggerCallback: (level, message) => {
          if (level <= LogLevel.Warning) logger.warn({ msal: message }, 'Teams login (MSAL)');
        },
      },
    },
  };
  // msal-node ships separate ESM and CJS typings; the SDK (CJS) only calls acquireTokenByClientCredential.
  type SdkMsalClient = ConstructorParameters<typeof MsalServiceClientCredentialsFactory>[1];
  const credentials = new MsalServiceClientCredentialsFactory(appId, new ConfidentialClientApplication(msalConfig) as unknown as SdkMsalClient);
  const options: ConfigurationBotFrameworkAuthenticationOptions = cloud
    ? {
        MicrosoftAppId: appId,
        MicrosoftAppTenantId: tenantId,
        ToChannelFromBotLoginUrl: cloud.loginUrl,
        ToChannelFromBotOAuthScope: cloud.oauthScope,
        ToBotFromChannelTokenIssuer: cloud.tokenIssuer,
        ToBotFromChannelOpenIdMetadataUrl: cloud.openIdMetadataUrl,
        // Emulator tokens are not accepted in production; point their metadata at the same
        // issuer so no token can be validated against Microsoft's emulator keys here.
        ToBotFromEmulatorOpenIdMetadataUrl: cloud.openIdMetadataUrl,
        OAuthUrl: cloud.oauthApiUrl ?? PUBLIC_OAUTH_API,
        CallerId: PUBLIC_CALLER_ID,
        ValidateAuthority: true,
      }
    : { MicrosoftAppId: appId, MicrosoftAppTenantId: tenantId };
  const inner = new ConfigurationBotFrameworkAuthentication(options, credentials, {
    requiredEndorsements: [],
    validateClaims: onlyChannelTokens(cloud?.tokenIssuer ?? PUBLIC_CHANNEL_ISSUER),
  });
  return { auth: new CountersignBotAuthentication(inner), appId };
}

/**
 * Only the Teams channel talks to this bot. The SDK would also accept Emulator and skill
 * (bot-to-bot) tokens, which Entra issues to any holder of an app secret; only tokens from the
 * channel's own issuer are let through.
 */
function onlyChannelTokens(expectedIssuer: string) {
  return async (claims: { type: string; value: string }[]): Promise<void> => {
    const issuer = claims.find((c) => c.type === 'iss')?.value;
    if (issuer !== expectedIssuer) throw new AuthenticationError('Unauthorized: only Bot Framework channel tokens are accepted', 401);
  };
}

const JWT_FAILURES = new Set(['JsonWebTokenError', 'TokenExpiredError', 'NotBeforeError']);

/**
 * Wraps the SDK's authentication for two reasons:
 *  - a token that fails jsonwebtoken's verification (bad signature, malformed) surfaces from
 *    the SDK as a plain error, which CloudAdapter answers with 500; it is an authentication
 *    failure and must be a 401.
 *  - proactive connector clients get no SDK-level HTTP retries (see errors.ts).
 */
export class CountersignBotAuthentication extends BotFrameworkAuthentication {
  constructor(private readonly inner: BotFrameworkAuthentication) {
    super();
  }

  override async authenticateRequest(activity: Activity, authHeader: string): Promise<AuthenticateRequestResult> {
    try {
      return await this.inner.authenticateRequest(activity, authHeader);
    } catch (err) {
      throw asAuthenticationError(err);
    }
  }

  override async authenticateStreamingRequest(authHeader: string, channelIdHeader: string): Promise<AuthenticateRequestResult> {
    try {
      return await this.inner.authenticateStreamingRequest(authHeader, channelIdHeader);
    } catch (err) {
      throw asAuthenticationError(err);
    }
  }

  override async authenticateChannelRequest(authHeader: string): Promise<ClaimsIdentity> {
    try {
      return await this.inner.authenticateChannelRequest(authHeader);
    } catch (err) {
      throw asAuthenticationError(err);
    }
  }

  override createConnectorFactory(claimsIdentity: ClaimsIdentity): ConnectorFactory {
    return new SingleAttemptConnectorFactory(this.inner.createConnectorFactory(claimsIdentity));
  }

  override createUserTokenClient(claimsIdentity: ClaimsIdentity): Promise<UserTokenClient> {
    return this.inner.createUserTokenClient(claimsIdentity);
  }

  override createBotFrameworkClient(): BotFrameworkClient {
    return this.inner.createBotFrameworkClient();
  }

  override getOriginatingAudience(): string {
    return this.inner.getOriginatingAudience();
  }
}

/**
 * Marks "the request could not be authenticated because the channel's OpenID metadata or
 * signing keys could not be fetched". CloudAdapter flattens every error to a status and its
 * message, so the mark travels in the message; http-route.ts answers it with 503 and
 * Retry-After: the caller (Bot Framework) retries, and nothing was let through meanwhile.
 */
export const IDENTITY_UNAVAILABLE = 'countersign: Bot Framework identity metadata unavailable';

function asAuthenticationError(err: unknown): unknown {
  // The SDK reports a failed metadata or key fetch as an AuthenticationError with status 500,
  // which CloudAdapter would answer with 401 (as if the token were bad).
  if (err instanceof AuthenticationError && err.statusCode >= 500) return new Error(`${IDENTITY_UNAVAILABLE}: ${err.message}`);
  if (err instanceof AuthenticationError) return err;
  if (err instanceof Error && JWT_FAILURES.has(err.name)) return new AuthenticationError(`Unauthorized: ${err.message}`, 401);
  // Anything else thrown while authenticating (connection refused, DNS, a timeout) is the
  // identity provider being unreachable, never a pass.
  if (err instanceof Error) return new Error(`${IDENTITY_UNAVAILABLE}: ${err.message}`);
  return err;
}

class SingleAttemptConnectorFactory extends ConnectorFactory {
  constructor(private readonly inner: ConnectorFactory) {
    super();
  }

  override async create(serviceUrl: string, audience?: string): Promise<ConnectorClient> {
    return withoutSdkRetries(await this.inner.create(serviceUrl, audience));
  }
}

/**
 * The connector's HTTP pipeline (@azure/core-rest-pipeline) retries 429 and 5xx on its own,
 * up to three times; proactive calls run inside queue jobs that already retry with pacing, so
 * the pipeline's retry policy is removed. If the SDK's internals change this fails loudly
 * rather than silently doubling the retries.
 */
export function withoutSdkRetries(client: ConnectorClient): ConnectorClient {
  const pipeline = (client as unknown as { client?: { pipeline?: { removePolicy(o: { name: string }): unknown[] } } }).client?.pipeline;
  if (!pipeline || typeof pipeline.removePolicy !== 'function') {
    throw new Error('botframework-connector changed: cannot reach the connector pipeline to disable its retries');
  }
  pipeline.removePolicy({ name: 'defaultRetryPolicy' });
  return client;
}
