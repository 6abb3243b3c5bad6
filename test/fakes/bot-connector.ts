import { execFileSync } from 'node:child_process';
import { randomUUID, X509Certificate } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { exportJWK, generateKeyPair, jwtVerify, SignJWT, type CryptoKey, type JWK } from 'jose';

// A local stand-in for Microsoft's side of a Teams bot, all on 127.0.0.1:
//  - the Bot Framework channel's token issuer: OpenID metadata + JWKS (a key endorsed for
//    "msteams", and one endorsed only for another channel), and RS256 tokens with iss / aud (the bot's app id) / serviceurl claims that
//    the SDK validates for real;
//  - the Entra login endpoint the bot gets its outbound app token from (HTTPS with a
//    self-signed certificate, because MSAL refuses http authorities): OpenID configuration and
//    a client-credentials token endpoint that checks the app id and password;
//  - the Bot Connector at the activities' serviceUrl: records posts, replies and updates,
//    answers roster and channel-list look-ups, checks every call's bearer token, refuses
//    messages above Teams' size limit (413), and can be told to fail (429, 412, 502, 504, 403…).

export const BOT_SCOPE = 'https://api.botframework.com';
/** Teams refuses a message (the whole activity) above about 28 KB. */
export const TEAMS_MESSAGE_LIMIT_BYTES = 28 * 1024;

export interface TeamsUser {
  /** Teams user id (29:…). */
  id: string;
  name: string;
  aadObjectId: string;
  email?: string;
  userPrincipalName?: string;
  tenantId?: string;
  /** What the roster says: 'user' (the default), 'guest' or 'anonymous'. */
  userRole?: string;
}

export interface FakeTeam {
  id: string;
  name: string;
  channels: { id: string; name?: string }[];
}

export interface RecordedActivity {
  conversationId: string;
  id: string;
  /** Set for replies (POST …/activities/{replyToId}). */
  replyToId: string | null;
  activity: Record<string, unknown>;
}

export interface RecordedUpdate {
  conversationId: string;
  activityId: string;
  activity: Record<string, unknown>;
}

interface Failure {
  status: number;
  headers: Record<string, string>;
  body: unknown;
  match: (method: string, path: string) => boolean;
}

interface Keys {
  kid: string;
  privateKey: CryptoKey;
  jwk: JWK;
}

async function rsaKeys(kid: string): Promise<Keys> {
  const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
  return { kid, privateKey, jwk: { ...(await exportJWK(publicKey)), kid, kty: 'RSA', use: 'sig', alg: 'RS256' } };
}

interface Certificate {
  key: string;
  cert: string;
  keyFile: string;
  certFile: string;
}

/** A self-signed certificate made with openssl (Node cannot issue X.509 certificates itself). */
function selfSignedCertificate(dir: string, name: string, subject: string, extra: string[] = []): Certificate {
  const keyFile = path.join(dir, `${name}.key.pem`);
  const certFile = path.join(dir, `${name}.cert.pem`);
  try {
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', keyFile, '-out', certFile, '-days', '2', '-subj', subject, ...extra], { stdio: 'ignore' });
  } catch (err) {
    throw new Error(`the fake Bot Framework needs the openssl command to make test certificates: ${(err as Error).message}`);
  }
  return { key: fs.readFileSync(keyFile, 'utf8'), cert: fs.readFileSync(certFile, 'utf8'), keyFile, certFile };
}

async function readBody(req: http.IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function listen(server: http.Server | https.Server): Promise<number> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port)));
}

export class FakeBotFramework {
  readonly appId = randomUUID();
  readonly appPassword = `secret-${randomUUID()}`;
  readonly tenantId = randomUUID();
  /** Bot Framework id of the bot in conversations. */
  readonly botId: string;

  readonly posts: RecordedActivity[] = [];
  readonly updates: RecordedUpdate[] = [];
  /** Every connector request, for assertions on what was (not) called. */
  readonly calls: { method: string; path: string; status: number }[] = [];
  /** Tokens issued by the login endpoint. */
  tokensIssued = 0;

  readonly users = new Map<string, TeamsUser>();
  readonly teams = new Map<string, FakeTeam>();
  private readonly failures: Failure[] = [];
  /** While true, the channel issuer's OpenID metadata and signing keys cannot be fetched. */
  identityDown = false;
  private readonly gone = new Set<string>();
  private seq = 0;

  private constructor(
    private readonly channelKeys: Keys,
    /** A key of the same issuer endorsed for another channel (webchat), never for msteams. */
    private readonly otherChannelKeys: Keys,
    private readonly loginKeys: Keys,
    private readonly dir: string,
    private readonly tls: Certificate,
    /** The bot's own certificate when it signs in with one instead of a password. */
    private readonly botCertificate: Certificate | null,
    private readonly httpServer: http.Server,
    private readonly httpsServer: https.Server,
    readonly url: string,
    readonly loginUrl: string,
  ) {
    this.botId = `28:${this.appId}`;
  }

  /** `credential: 'certificate'` makes the bot sign in with a certificate (client assertion). */
  static async start(opts: { credential?: 'password' | 'certificate' } = {}): Promise<FakeBotFramework> {
    const [channelKeys, otherChannelKeys, loginKeys] = await Promise.all([rsaKeys('channel-key-1'), rsaKeys('webchat-key-1'), rsaKeys('login-key-1')]);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fake-bot-framework-'));
    // The login endpoint must be https (MSAL refuses anything else).
    const tls = selfSignedCertificate(dir, 'login', '/CN=127.0.0.1', ['-addext', 'subjectAltName=IP:127.0.0.1']);
    const botCertificate = opts.credential === 'certificate' ? selfSignedCertificate(dir, 'bot', '/CN=countersign-bot') : null;
    let fake: FakeBotFramework | undefined;
    const handler = (req: http.IncomingMessage, res: http.ServerResponse) => {
      fake!.handle(req, res).catch((err: Error) => {
        res.writeHead(500, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: { code: 'FakeFailure', message: err.message } }));
      });
    };
    const httpServer = http.createServer(handler);
    const httpsServer = https.createServer({ key: tls.key, cert: tls.cert }, handler);
    const [httpPort, httpsPort] = await Promise.all([listen(httpServer), listen(httpsServer)]);
    fake = new FakeBotFramework(channelKeys, otherChannelKeys, loginKeys, dir, tls, botCertificate, httpServer, httpsServer, `http://127.0.0.1:${httpPort}`, `https://127.0.0.1:${httpsPort}`);
    return fake;
  }

  /** The Bot Framework channel's issuer (the `iss` of inbound tokens). */
  get issuer(): string {
    return `${this.url}/botframework`;
  }

  /** Where the fake connector lives; activities carry it and the SDK posts back to it. */
  get serviceUrl(): string {
    return `${this.url}/teams/`;
  }

  /** The environment that points the service's Teams module at this fake. */
  env(overrides: Record<string, string> = {}): Record<string, string> {
    const credential: Record<string, string> = this.botCertificate
      ? { MICROSOFT_APP_CERT_THUMBPRINT: new X509Certificate(this.botCertificate.cert).fingerprint.replaceAll(':', ''), MICROSOFT_APP_CERT_KEY_FILE: this.botCertificate.keyFile }
      : { MICROSOFT_APP_PASSWORD: this.appPassword };
    return {
      MICROSOFT_APP_ID: this.appId,
      ...credential,
      MICROSOFT_APP_TENANT_ID: this.tenantId,
      MicrosoftAppType: 'SingleTenant',
      TEAMS_CHANNEL_OPENID_METADATA_URL: `${this.url}/botframework/.well-known/openidconfiguration`,
      TEAMS_CHANNEL_TOKEN_ISSUER: this.issuer,
      TEAMS_LOGIN_URL: this.loginUrl,
      TEAMS_LOGIN_CA_FILE: this.tls.certFile,
      TEAMS_OAUTH_API_URL: `${this.url}/oauth`,
      ...overrides,
    };
  }

  // ---- inbound: tokens the channel would send -------------------------------------------

  /** A Bot Framework channel token; every claim can be spoiled for negative tests. */
  async channelToken(
    opts: {
      serviceUrl?: string;
      audience?: string;
      issuer?: string;
      expiresInSeconds?: number;
      /** channel: the msteams key; otherChannel: the issuer's key endorsed only for webchat; stranger: a key nobody published. */
      signWith?: 'channel' | 'otherChannel' | 'stranger';
      kid?: string;
      claims?: Record<string, string>;
    } = {},
  ): Promise<string> {
    const now = Math.floor(Date.now() / 1000);
    const exp = now + (opts.expiresInSeconds ?? 300);
    let key = this.channelKeys.privateKey;
    let kid = this.channelKeys.kid;
    if (opts.signWith === 'stranger') key = (await generateKeyPair('RS256')).privateKey;
    if (opts.signWith === 'otherChannel') ({ privateKey: key, kid } = this.otherChannelKeys);
    return new SignJWT({ serviceurl: opts.serviceUrl ?? this.serviceUrl, ...opts.claims })
      .setProtectedHeader({ alg: 'RS256', kid: opts.kid ?? kid, typ: 'JWT' })
      .setIssuer(opts.issuer ?? this.issuer)
      .setAudience(opts.audience ?? this.appId)
      .setIssuedAt(Math.min(now, exp - 60))
      .setNotBefore(Math.min(now, exp - 60))
      .setExpirationTime(exp)
      .sign(key);
  }

  /**
   * Posts an activity to the bot's endpoint with a valid channel token (or the given
   * Authorization header; null sends none).
   */
  async send(baseUrl: string, activity: Record<string, unknown>, opts: { authorization?: string | null } = {}): Promise<{ status: number; body: any }> {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    const authorization = opts.authorization === undefined ? `Bearer ${await this.channelToken({ serviceUrl: activity.serviceUrl as string })}` : opts.authorization;
    if (authorization !== null) headers.authorization = authorization;
    const res = await fetch(`${baseUrl}/api/messages`, { method: 'POST', headers, body: JSON.stringify(activity) });
    const text = await res.text();
    let body: unknown = text;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      // not JSON
    }
    return { status: res.status, body };
  }

  // ---- activities Teams would send --------------------------------------------------------

  private base(conversation: Record<string, unknown>, from: { id: string; name?: string; aadObjectId?: string }, channelData: Record<string, unknown>, tenantId: string) {
    return {
      id: `f:${++this.seq}`,
      timestamp: new Date().toISOString(),
      channelId: 'msteams',
      serviceUrl: this.serviceUrl,
      from,
      recipient: { id: this.botId, name: 'countersign' },
      conversation: { tenantId, ...conversation },
      channelData: { tenant: { id: tenantId }, ...channelData },
      locale: 'en-US',
    };
  }

  /** The bot is added to a team (Teams sends this in the team's General channel). */
  installInTeam(team: FakeTeam, by: TeamsUser, tenantId = this.tenantId): Record<string, unknown> {
    this.teams.set(team.id, team);
    return {
      ...this.base(
        { id: team.id, isGroup: true, conversationType: 'channel' },
        { id: by.id, name: by.name, aadObjectId: by.aadObjectId },
        { team: { id: team.id, name: team.name, aadGroupId: randomUUID() }, eventType: 'teamMemberAdded' },
        tenantId,
      ),
      type: 'conversationUpdate',
      membersAdded: [{ id: this.botId }],
    };
  }

  /** The bot is removed from a team. */
  removeFromTeam(team: FakeTeam, by: TeamsUser): Record<string, unknown> {
    return {
      ...this.base(
        { id: team.id, isGroup: true, conversationType: 'channel' },
        { id: by.id, name: by.name, aadObjectId: by.aadObjectId },
        { team: { id: team.id, name: team.name }, eventType: 'teamMemberRemoved' },
        this.tenantId,
      ),
      type: 'conversationUpdate',
      membersRemoved: [{ id: this.botId }],
    };
  }

  /** A user installs the bot in personal scope. */
  installPersonal(user: TeamsUser, tenantId = this.tenantId): Record<string, unknown> {
    return {
      ...this.base({ id: this.personalChatId(user), conversationType: 'personal' }, { id: user.id, name: user.name, aadObjectId: user.aadObjectId }, {}, tenantId),
      type: 'installationUpdate',
      action: 'add',
    };
  }

  /** The bot is added to a group chat. */
  installGroupChat(chatId: string, by: TeamsUser): Record<string, unknown> {
    return {
      ...this.base({ id: chatId, isGroup: true, conversationType: 'groupChat' }, { id: by.id, name: by.name, aadObjectId: by.aadObjectId }, {}, this.tenantId),
      type: 'conversationUpdate',
      membersAdded: [{ id: this.botId }],
    };
  }

  personalChatId(user: TeamsUser): string {
    return `a:personal-${user.aadObjectId}`;
  }

  /** A click on an Action.Execute button of a card the bot posted (or a refresh). */
  invoke(
    user: TeamsUser,
    card: { conversationId: string; activityId: string; kind?: 'channel' | 'personal' | 'groupChat' },
    verb: string,
    data: Record<string, unknown>,
    opts: { tenantId?: string; conversationTenantId?: string } = {},
  ): Record<string, unknown> {
    const tenantId = opts.tenantId ?? this.tenantId;
    const kind = card.kind ?? 'channel';
    const conversationId = kind === 'channel' ? `${card.conversationId};messageid=${card.activityId}` : card.conversationId;
    const activity = this.base(
      { id: conversationId, conversationType: kind, isGroup: kind !== 'personal' },
      { id: user.id, name: user.name, aadObjectId: user.aadObjectId },
      { source: { name: 'message' }, legacy: { replyToId: card.activityId } },
      tenantId,
    );
    if (opts.conversationTenantId) (activity.conversation as Record<string, unknown>).tenantId = opts.conversationTenantId;
    return {
      ...activity,
      type: 'invoke',
      name: 'adaptiveCard/action',
      replyToId: card.activityId,
      value: { action: { type: 'Action.Execute', id: randomUUID(), verb, data }, trigger: verb === 'refresh' ? 'automatic' : 'manual' },
    };
  }

  // ---- connector behaviour ---------------------------------------------------------------

  /** The next `count` connector calls matching `match` fail with `status`. */
  failNext(count: number, status: number, opts: { headers?: Record<string, string>; body?: unknown; match?: (method: string, path: string) => boolean } = {}): void {
    for (let i = 0; i < count; i++) {
      this.failures.push({
        status,
        headers: opts.headers ?? {},
        body: opts.body ?? { error: { code: status === 429 ? 'TooManyRequests' : 'ServiceError', message: `fake ${status}` } },
        match: opts.match ?? (() => true),
      });
    }
  }

  /** The bot was removed from this conversation: every call to it answers 403. */
  removeBotFrom(conversationId: string): void {
    this.gone.add(conversationId);
  }

  /** Latest content of a posted activity (after updates). */
  current(activityId: string): Record<string, unknown> | undefined {
    const update = [...this.updates].reverse().find((u) => u.activityId === activityId);
    return update?.activity ?? this.posts.find((p) => p.id === activityId)?.activity;
  }

  async close(): Promise<void> {
    await Promise.all([
      new Promise<void>((resolve) => this.httpServer.close(() => resolve())),
      new Promise<void>((resolve) => this.httpsServer.close(() => resolve())),
    ]);
    this.httpServer.closeAllConnections();
    this.httpsServer.closeAllConnections();
    fs.rmSync(this.dir, { recursive: true, force: true });
  }

  // ---- HTTP ---------------------------------------------------------------------------------

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const p = url.pathname;
    const json = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      res.writeHead(status, { 'content-type': 'application/json', ...headers });
      res.end(body === undefined ? '' : JSON.stringify(body));
    };

    // Channel token issuer (http); `identityDown` makes its metadata and keys answer 503.
    if (this.identityDown && (p === '/botframework/.well-known/openidconfiguration' || p === '/botframework/keys')) {
      return json(503, { error: 'unavailable' });
    }
    if (p === '/botframework/.well-known/openidconfiguration') {
      return json(200, {
        issuer: this.issuer,
        authorization_endpoint: `${this.url}/botframework/authorize`,
        jwks_uri: `${this.url}/botframework/keys`,
        id_token_signing_alg_values_supported: ['RS256'],
        token_endpoint_auth_methods_supported: ['private_key_jwt'],
      });
    }
    if (p === '/botframework/keys') {
      return json(200, {
        keys: [
          { ...this.channelKeys.jwk, endorsements: ['msteams'] },
          { ...this.otherChannelKeys.jwk, endorsements: ['webchat'] },
        ],
      });
    }

    // Entra login (https only).
    const login = /^\/([^/]+)\/(v2\.0\/\.well-known\/openid-configuration|oauth2\/v2\.0\/token)$/.exec(p);
    if (login) {
      if (req.socket.constructor.name !== 'TLSSocket') return json(404, { error: 'login is https only' });
      const [, tenant, what] = login;
      if (tenant !== this.tenantId) return json(400, { error: 'invalid_tenant' });
      const base = `${this.loginUrl}/${tenant}`;
      if (what!.startsWith('v2.0')) {
        return json(200, {
          issuer: `${base}/v2.0`,
          authorization_endpoint: `${base}/oauth2/v2.0/authorize`,
          token_endpoint: `${base}/oauth2/v2.0/token`,
          jwks_uri: `${base}/discovery/v2.0/keys`,
          end_session_endpoint: `${base}/oauth2/v2.0/logout`,
          response_types_supported: ['code', 'token'],
        });
      }
      const form = new URLSearchParams(await readBody(req));
      const authenticated = this.botCertificate
        ? await this.validClientAssertion(form.get('client_assertion_type'), form.get('client_assertion'), `${base}/oauth2/v2.0/token`)
        : form.get('client_secret') === this.appPassword;
      if (form.get('grant_type') !== 'client_credentials' || form.get('client_id') !== this.appId || !authenticated) {
        return json(401, { error: 'invalid_client', error_description: 'fake: bad client credentials' });
      }
      if (form.get('scope') !== `${BOT_SCOPE}/.default`) return json(400, { error: 'invalid_scope' });
      this.tokensIssued++;
      const accessToken = await new SignJWT({ appid: this.appId, tid: tenant })
        .setProtectedHeader({ alg: 'RS256', kid: this.loginKeys.kid })
        .setIssuer(`${base}/v2.0`)
        .setAudience(BOT_SCOPE)
        .setIssuedAt()
        .setExpirationTime('1h')
        .sign(this.loginKeys.privateKey);
      return json(200, { token_type: 'Bearer', expires_in: 3600, ext_expires_in: 3600, access_token: accessToken });
    }

    // Bot Connector (http).
    if (!p.startsWith('/teams/v3/')) return json(404, { error: { code: 'NotFound', message: `fake: no route ${req.method} ${p}` } });
    const method = req.method ?? 'GET';
    const record = (status: number) => this.calls.push({ method, path: p, status });
    if (!(await this.validAppToken(req.headers.authorization))) {
      record(401);
      return json(401, { message: 'Authorization has been denied for this request.' });
    }
    const failure = this.failures.findIndex((f) => f.match(method, p));
    if (failure !== -1) {
      const f = this.failures.splice(failure, 1)[0]!;
      record(f.status);
      return json(f.status, f.body, f.headers);
    }
    const segments = p.slice('/teams/v3/'.length).split('/').map(decodeURIComponent);
    if (segments[0] === 'conversations') {
      const conversationId = segments[1]!;
      const base = conversationId.split(';messageid=')[0]!;
      if (this.gone.has(base)) {
        record(403);
        return json(403, { error: { code: 'BotNotInConversationRoster', message: 'The bot is not part of the conversation roster.' } });
      }
      const raw = segments[2] === 'activities' && (method === 'POST' || method === 'PUT') ? await readBody(req) : '';
      if (Buffer.byteLength(raw, 'utf8') > TEAMS_MESSAGE_LIMIT_BYTES) {
        record(413);
        return json(413, { error: { code: 'MessageSizeTooBig', message: 'Message size too big' } });
      }
      if (segments[2] === 'activities' && method === 'POST') {
        const activity = JSON.parse(raw) as Record<string, unknown>;
        const id = `1${String(++this.seq).padStart(12, '0')}`;
        this.posts.push({ conversationId, id, replyToId: segments[3] ?? null, activity });
        record(201);
        return json(201, { id });
      }
      if (segments[2] === 'activities' && segments[3] && method === 'PUT') {
        const activity = JSON.parse(raw) as Record<string, unknown>;
        if (!this.posts.some((x) => x.id === segments[3])) {
          record(404);
          return json(404, { error: { code: 'NotFound', message: 'no such activity' } });
        }
        this.updates.push({ conversationId, activityId: segments[3], activity });
        record(200);
        return json(200, { id: segments[3] });
      }
      if (segments[2] === 'members' && segments[3] && method === 'GET') {
        const user = [...this.users.values()].find((u) => u.id === segments[3] || u.aadObjectId === segments[3]);
        if (!user) {
          record(404);
          return json(404, { error: { code: 'MemberNotFoundInConversation', message: 'member not found' } });
        }
        record(200);
        return json(200, {
          id: user.id,
          name: user.name,
          aadObjectId: user.aadObjectId,
          email: user.email,
          userPrincipalName: user.userPrincipalName ?? user.email,
          tenantId: user.tenantId ?? this.tenantId,
          userRole: user.userRole ?? 'user',
        });
      }
    }
    if (segments[0] === 'teams' && segments[1]) {
      const team = this.teams.get(segments[1]);
      if (!team) {
        record(404);
        return json(404, { error: { code: 'NotFound', message: 'no such team' } });
      }
      record(200);
      if (segments[2] === 'conversations') return json(200, { conversations: team.channels.map((c) => ({ id: c.id, name: c.name })) });
      return json(200, { id: team.id, name: team.name, aadGroupId: randomUUID() });
    }
    record(404);
    return json(404, { error: { code: 'NotFound', message: `fake: no route ${method} ${p}` } });
  }

  /** A certificate client assertion (RFC 7523): signed with the bot's key, naming its certificate. */
  private async validClientAssertion(type: string | null, assertion: string | null, tokenEndpoint: string): Promise<boolean> {
    if (type !== 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer' || !assertion || !this.botCertificate) return false;
    const cert = new X509Certificate(this.botCertificate.cert);
    const thumbprints = {
      x5t: Buffer.from(cert.fingerprint.replaceAll(':', ''), 'hex').toString('base64url'),
      'x5t#S256': Buffer.from(cert.fingerprint256.replaceAll(':', ''), 'hex').toString('base64url'),
    };
    try {
      const { payload, protectedHeader } = await jwtVerify(assertion, cert.publicKey, {
        audience: tokenEndpoint,
        issuer: this.appId,
        subject: this.appId,
        algorithms: ['RS256', 'PS256'],
        // MSAL rounds its clock to the nearest second; Entra allows minutes of skew.
        clockTolerance: 60,
      });
      const header = protectedHeader as Record<string, unknown>;
      return Boolean(payload.jti) && (header.x5t === thumbprints.x5t || header['x5t#S256'] === thumbprints['x5t#S256']);
    } catch {
      return false;
    }
  }

  private async validAppToken(header: string | undefined): Promise<boolean> {
    const token = header?.startsWith('Bearer ') ? header.slice(7) : null;
    if (!token) return false;
    try {
      const { payload } = await jwtVerify(token, async () => (await import('jose')).importJWK(this.loginKeys.jwk, 'RS256'), { audience: BOT_SCOPE });
      return payload.appid === this.appId;
    } catch {
      return false;
    }
  }
}

// ---- Teams people for the tests ------------------------------------------------------------
// The shared fixture directory, with Teams ids pinned for some people. Others are found by the
// roster's email (carol, erin, grace…), and some Teams users are nobody in the directory.

export const teamsUsers = {
  /** sre-lead, pinned by Teams id. */
  alice: { id: '29:alice', name: 'Alice', aadObjectId: '6f1c2a3e-1b2d-4c5e-8f90-0a1b2c3d4e01', email: 'alice@example.com' },
  /** security, pinned by Teams id. */
  bob: { id: '29:bob', name: 'Bob', aadObjectId: '6f1c2a3e-1b2d-4c5e-8f90-0a1b2c3d4e02', email: 'bob@example.com' },
  /** sre-lead + security, by roster email (upper case on purpose). */
  carol: { id: '29:carol', name: 'Carol', aadObjectId: '6f1c2a3e-1b2d-4c5e-8f90-0a1b2c3d4e03', email: 'Carol@Example.com' },
  /** owns deploy-bot, by roster UPN. */
  erin: { id: '29:erin', name: 'Erin', aadObjectId: '6f1c2a3e-1b2d-4c5e-8f90-0a1b2c3d4e05', userPrincipalName: 'erin@example.com' },
  /** auditor only (no approver role), by roster email. */
  grace: { id: '29:grace', name: 'Grace', aadObjectId: '6f1c2a3e-1b2d-4c5e-8f90-0a1b2c3d4e07', email: 'grace@example.com' },
  /** security, pinned by Teams id. */
  judy: { id: '29:judy', name: 'Judy', aadObjectId: '6f1c2a3e-1b2d-4c5e-8f90-0a1b2c3d4e0a', email: 'judy@example.com' },
  /** Claims ivan's email, but the directory pins ivan to another Teams account. */
  notIvan: { id: '29:not-ivan', name: 'Not Ivan', aadObjectId: '6f1c2a3e-1b2d-4c5e-8f90-0a1b2c3d4e99', email: 'ivan@example.com' },
  /** In the tenant, not in the directory. */
  stranger: { id: '29:stranger', name: 'Stranger', aadObjectId: '6f1c2a3e-1b2d-4c5e-8f90-0a1b2c3d4eff', email: 'stranger@example.com' },
} satisfies Record<string, TeamsUser>;

/** test/fixtures/directory.yaml with Teams ids for alice, bob, judy and ivan (another account). */
export async function teamsDirectoryYaml(): Promise<string> {
  const { parse, stringify } = await import('yaml');
  const file = path.resolve(import.meta.dirname, '..', 'fixtures', 'directory.yaml');
  const doc = parse(fs.readFileSync(file, 'utf8')) as { people: { id: string; teams?: { aadObjectId: string } }[] };
  const pinned: Record<string, string> = {
    alice: teamsUsers.alice.aadObjectId,
    bob: teamsUsers.bob.aadObjectId,
    judy: teamsUsers.judy.aadObjectId,
    ivan: '6f1c2a3e-1b2d-4c5e-8f90-0a1b2c3d4e09',
  };
  for (const p of doc.people) if (pinned[p.id]) p.teams = { aadObjectId: pinned[p.id]! };
  return stringify(doc);
}
