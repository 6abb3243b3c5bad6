import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parse as parseQuery } from 'node:querystring';
import WebSocket from 'ws';
import type { Truthy } from '../support/truthy.ts';

// A local stand-in for the Slack Web API (https://slack.com/api/<method>): enough of it for
// countersign's Slack app, pointed at through SLACK_API_URL (Bolt's and the WebClient's
// `slackApiUrl`). It records every call, keeps the messages it was asked to post so tests can
// read a card's current blocks, checks the bot token and Block Kit's main limits, and can be
// scripted: "answer 429 with Retry-After 1 once, then behave", "answer invalid_blocks", "do it
// but answer only after the client gave up" (lateMs). Messages keep their metadata and can be
// read back with conversations.history. It can also take a post and still answer 500
// (`accept`), hold an answer until the test says (`until`), accept more than one bot token (one
// per worker process, so a test can tell who made a call), answer with a body that is not
// JSON (`rawBody`: a proxy's page, a body cut short), and tell a listener of every call as it
// arrives (`onArrive`). Socket Mode: apps.connections.open (with the app-level token)
// hands out a ws:// URL on the same port, where the fake says hello and sends envelopes
// (sendEnvelope) whose acks the test can await.

export interface SlackCall {
  method: string;
  args: Record<string, unknown>;
  /** Date.now() when the call arrived. */
  at: number;
  /** The bot token the call was made with (tells processes with their own tokens apart). */
  token: string;
  /** What the fake answered (after scripting). */
  status: number;
  response: Record<string, unknown>;
  /** The body sent instead of JSON, when the answer was scripted with `rawBody`. */
  raw?: string;
}

export interface FakeSlackUser {
  id: string;
  team_id: string;
  name?: string;
  email?: string;
  is_email_confirmed?: boolean;
  deleted?: boolean;
  is_bot?: boolean;
  /** Grid: the organisation the account belongs to. */
  enterprise_id?: string;
}

export interface FakeMessage {
  channel: string;
  ts: string;
  text: string;
  blocks: Record<string, unknown>[];
  threadTs: string | null;
  /** Message metadata as posted ({ event_type, event_payload }), if any. */
  metadata: Record<string, unknown> | null;
  /** Set by chat.delete (the message no longer shows in history). */
  deleted: boolean;
  /** Every version, oldest first (post, then each chat.update). */
  history: { text: string; blocks: Record<string, unknown>[]; at: number }[];
}

export interface ScriptedAnswer {
  status?: number;
  headers?: Record<string, string>;
  body?: Record<string, unknown>;
  /** Wait this long before answering (a slow Slack). */
  delayMs?: number;
  /** Only calls whose arguments pass this get the answer (e.g. one channel); others behave. */
  match?: (args: Record<string, unknown>) => boolean;
  /**
   * Do the call for real (post the message), but answer only after this long: past the
   * client's timeout, Slack accepted a post the client never hears about.
   */
  lateMs?: number;
  /**
   * Do the call for real (post the message), then answer with `status`/`body` anyway: Slack
   * took the post and the answer says it failed (a 500 after accepting it).
   */
  accept?: boolean;
  /**
   * Answer only once this settles (never, if it never does): the test acts while the call
   * hangs. With `accept`, the post is done at once and only the answer waits.
   */
  until?: Promise<unknown>;
  /**
   * Answer with this text (content-type text/html unless `headers` say otherwise) instead of a
   * JSON body: a proxy's or gateway's page, a body cut short. With `accept`, after doing the
   * call for real (give `status` 200 for "done, answered garbled").
   */
  rawBody?: string;
}

/** What the service answered on the socket for one envelope. */
export interface SocketAck {
  envelope_id: string;
  payload?: Record<string, unknown>;
  /** Milliseconds from sending the envelope to the ack. */
  afterMs: number;
}

export interface FakeSlackOptions {
  token?: string;
  teamId?: string;
  enterpriseId?: string;
  users?: FakeSlackUser[];
  channels?: { id: string; name: string }[];
  /**
   * Slack's per-channel posting limit (about one message per second, short bursts allowed):
   * when set, a chat.postMessage to a channel that already had `burst` posts within the last
   * `windowMs` is answered 429 with Retry-After 1. Off by default.
   */
  channelRate?: { windowMs: number; burst: number };
  /** The app-level token apps.connections.open accepts (Socket Mode). */
  appToken?: string;
  /** More bot tokens accepted besides `token` (e.g. one per worker process). */
  extraTokens?: string[];
}

const BOT_USER_ID = 'U0BOT00001';
const BOT_ID = 'B0BOT00001';

export class FakeSlack {
  readonly calls: SlackCall[] = [];
  readonly messages = new Map<string, FakeMessage>();
  readonly users = new Map<string, FakeSlackUser>();
  readonly channels = new Map<string, { id: string; name: string }>();
  readonly token: string;
  readonly teamId: string;
  /** `<base>/api/`, the value for SLACK_API_URL. */
  url = '';
  private readonly scripts = new Map<string, ScriptedAnswer[]>();
  private readonly postsByChannel = new Map<string, number[]>();
  private seq = 0;
  private server: Server | undefined;
  private readonly listeners: ((call: SlackCall) => void)[] = [];
  private readonly arrivals: ((call: Pick<SlackCall, 'method' | 'args' | 'token' | 'at'>) => void)[] = [];
  private readonly botTokens: Set<string>;
  private wss: WebSocket.Server | undefined;
  /** Open Socket Mode connections, oldest first. */
  readonly sockets: WebSocket[] = [];
  private readonly pendingAcks = new Map<string, { sentAt: number; resolve: (ack: SocketAck) => void }>();
  readonly appToken: string;

  constructor(private readonly opts: FakeSlackOptions = {}) {
    this.token = opts.token ?? 'xoxb-test-token';
    this.teamId = opts.teamId ?? 'T0TEAM0001';
    this.appToken = opts.appToken ?? 'xapp-1-A0APP00001-1-test';
    this.botTokens = new Set([this.token, ...(opts.extraTokens ?? [])]);
    for (const u of opts.users ?? []) this.users.set(u.id, u);
    for (const c of opts.channels ?? []) this.channels.set(c.id, c);
  }

  static async start(opts: FakeSlackOptions = {}): Promise<FakeSlack> {
    const fake = new FakeSlack(opts);
    await fake.listen();
    return fake;
  }

  private async listen(): Promise<void> {
    this.server = createServer((req, res) => void this.handle(req, res));
    // Like slack.com, connections stay open between calls. (Node clients drop a connection whose
    // server announces a keep-alive of 1 s or less, so a short value here would make every call
    // a new connection.) close() ends open connections itself.
    this.server.keepAliveTimeout = 30_000;
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    const { port } = this.server.address() as AddressInfo;
    this.url = `http://127.0.0.1:${port}/api/`;
    this.wss = new WebSocket.Server({ server: this.server, path: '/socket' });
    this.wss.on('connection', (ws) => this.onSocket(ws));
  }

  private onSocket(ws: WebSocket): void {
    this.sockets.push(ws);
    ws.on('close', () => this.sockets.splice(this.sockets.indexOf(ws), 1));
    ws.on('message', (data) => {
      const msg = JSON.parse(String(data)) as { envelope_id?: string; payload?: Record<string, unknown> };
      const pending = msg.envelope_id ? this.pendingAcks.get(msg.envelope_id) : undefined;
      if (!pending) return;
      this.pendingAcks.delete(msg.envelope_id!);
      pending.resolve({ envelope_id: msg.envelope_id!, ...(msg.payload ? { payload: msg.payload } : {}), afterMs: Date.now() - pending.sentAt });
    });
    ws.send(JSON.stringify({ type: 'hello', num_connections: this.sockets.length, connection_info: { app_id: 'A0APP00001' }, debug_info: { host: 'fake' } }));
  }

  /**
   * Sends a Socket Mode envelope (e.g. type "interactive" with a block_actions payload) on the
   * newest connection; resolves with the service's ack, or rejects after `timeoutMs`.
   */
  sendEnvelope(type: string, payload: Record<string, unknown>, timeoutMs = 5_000): Promise<SocketAck> {
    const ws = this.sockets.at(-1);
    if (!ws) return Promise.reject(new Error('fake Slack: no Socket Mode connection'));
    const envelopeId = randomBytes(8).toString('hex');
    return new Promise<SocketAck>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pendingAcks.delete(envelopeId);
        reject(new Error(`fake Slack: no ack for envelope ${envelopeId} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pendingAcks.set(envelopeId, {
        sentAt: Date.now(),
        resolve: (ack) => {
          clearTimeout(timer);
          resolve(ack);
        },
      });
      ws.send(JSON.stringify({ envelope_id: envelopeId, type, payload, accepts_response_payload: type === 'interactive' }));
    });
  }

  async close(): Promise<void> {
    if (!this.server) return;
    for (const ws of this.sockets) ws.terminate();
    this.wss?.close();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server!.close(() => resolve()));
  }

  /** Answers the next calls to `method` with these, in order, before behaving normally. */
  script(method: string, ...answers: ScriptedAnswer[]): void {
    this.scripts.set(method, [...(this.scripts.get(method) ?? []), ...answers]);
  }

  rateLimitNext(method: string, retryAfterSeconds: number, times = 1, match?: ScriptedAnswer['match']): void {
    for (let i = 0; i < times; i++) this.script(method, { status: 429, headers: { 'retry-after': String(retryAfterSeconds) }, body: { ok: false, error: 'ratelimited' }, ...(match ? { match } : {}) });
  }

  failNext(method: string, error: string, times = 1, match?: ScriptedAnswer['match']): void {
    for (let i = 0; i < times; i++) this.script(method, { body: { ok: false, error }, ...(match ? { match } : {}) });
  }

  private takeScripted(method: string, args: Record<string, unknown>): ScriptedAnswer | undefined {
    const queue = this.scripts.get(method);
    const index = queue?.findIndex((a) => !a.match || a.match(args)) ?? -1;
    return index === -1 ? undefined : queue!.splice(index, 1)[0];
  }

  addUser(user: FakeSlackUser): void {
    this.users.set(user.id, user);
  }

  addChannel(id: string, name: string): void {
    this.channels.set(id, { id, name });
  }

  /** Called with every call as it is answered (benchmarks time cards with it). */
  onCall(listener: (call: SlackCall) => void): void {
    this.listeners.push(listener);
  }

  /** Called with every call as it arrives, before any scripted delay (e.g. to act while it hangs). */
  onArrive(listener: (call: Pick<SlackCall, 'method' | 'args' | 'token' | 'at'>) => void): void {
    this.arrivals.push(listener);
  }

  callsTo(method: string): SlackCall[] {
    return this.calls.filter((c) => c.method === method);
  }

  /** Successful calls only. */
  okCallsTo(method: string): SlackCall[] {
    return this.callsTo(method).filter((c) => c.response.ok === true);
  }

  /** Top-level messages (not thread replies) posted in a channel, oldest first. */
  cardsIn(channel: string): FakeMessage[] {
    return [...this.messages.values()].filter((m) => m.channel === channel && m.threadTs === null && !m.deleted);
  }

  threadReplies(channel: string, ts: string): FakeMessage[] {
    return [...this.messages.values()].filter((m) => m.channel === channel && m.threadTs === ts);
  }

  /** The DM channel id the fake hands out for a user (conversations.open). */
  dmOf(userId: string): string {
    return `D${userId.slice(1)}`;
  }

  /** Polls `check` until it returns a truthy value (or throws after `timeoutMs`). */
  async waitFor<T>(check: () => T | Promise<T>, timeoutMs = 10_000, what = 'condition'): Promise<Truthy<T>> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = await check();
      if (value) return value as Truthy<T>;
      if (Date.now() > deadline) throw new Error(`fake Slack: timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    const method = (req.url ?? '').replace(/^\/api\//, '').split('?')[0] ?? '';
    const args = parseArgs(raw, req.headers['content-type'] ?? '');
    const at = Date.now();

    const auth = req.headers.authorization ?? (typeof args.token === 'string' ? `Bearer ${args.token}` : '');
    const token = auth.replace(/^Bearer /, '');
    for (const listener of this.arrivals) listener({ method, args, token, at });
    const scripted = this.takeScripted(method, args);
    let status = 200;
    let headers: Record<string, string> = {};
    let body: Record<string, unknown>;
    if (method === 'apps.connections.open') {
      // The one method called with the app-level token, not the bot token.
      body = auth === `Bearer ${this.appToken}` ? { ok: true, url: `${this.url.replace(/^http/, 'ws').replace(/\/api\/$/, '')}/socket?ticket=${randomBytes(6).toString('hex')}` } : { ok: false, error: 'invalid_auth' };
    } else if (scripted && scripted.lateMs === undefined && !scripted.accept) {
      if (scripted.delayMs) await new Promise((r) => setTimeout(r, scripted.delayMs));
      if (scripted.until) await scripted.until.catch(() => undefined);
      status = scripted.status ?? 200;
      headers = scripted.headers ?? {};
      body = scripted.body ?? (scripted.rawBody === undefined ? { ok: true } : {});
    } else {
      if (!this.botTokens.has(token)) body = { ok: false, error: 'invalid_auth' };
      else {
        const limited = this.channelLimited(method, args, at);
        if (limited) {
          status = 429;
          headers = { 'retry-after': '1' };
          body = { ok: false, error: 'ratelimited' };
        } else body = this.answer(method, args, at);
      }
      if (scripted?.accept) {
        status = scripted.status ?? 500;
        headers = scripted.headers ?? {};
        body = scripted.body ?? (scripted.rawBody === undefined ? { ok: false, error: 'internal_error' } : {});
      }
    }
    // Recorded when done, not when answered: a late answer's work is visible at once.
    const rawAnswer = scripted?.rawBody;
    const call: SlackCall = { method, args, token, at, status, response: body, ...(rawAnswer === undefined ? {} : { raw: rawAnswer }) };
    this.calls.push(call);
    for (const listener of this.listeners) listener(call);
    if (scripted?.lateMs) await new Promise((r) => setTimeout(r, scripted.lateMs));
    if (scripted?.accept && scripted.until) await scripted.until.catch(() => undefined);
    // A client that gave up (lateMs) has closed the connection: nobody reads this answer.
    if (res.destroyed) return;
    if (rawAnswer !== undefined) {
      res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', ...headers });
      res.end(rawAnswer);
      return;
    }
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
    res.end(JSON.stringify(body));
  }

  private channelLimited(method: string, args: Record<string, unknown>, at: number): boolean {
    const rate = this.opts.channelRate;
    if (!rate || method !== 'chat.postMessage' || typeof args.channel !== 'string') return false;
    const recent = (this.postsByChannel.get(args.channel) ?? []).filter((t) => at - t < rate.windowMs);
    if (recent.length >= rate.burst) return true;
    recent.push(at);
    this.postsByChannel.set(args.channel, recent);
    return false;
  }

  private nextTs(at: number): string {
    this.seq += 1;
    return `${Math.floor(at / 1000)}.${String(this.seq).padStart(6, '0')}`;
  }

  private knownConversation(channel: string): boolean {
    return this.channels.has(channel) || /^D[A-Z0-9]+$/.test(channel) || this.users.has(channel);
  }

  private answer(method: string, args: Record<string, unknown>, at: number): Record<string, unknown> {
    switch (method) {
      case 'auth.test':
        return { ok: true, url: 'https://fake.slack.test/', team: 'Fake', team_id: this.teamId, user_id: BOT_USER_ID, bot_id: BOT_ID, ...(this.opts.enterpriseId ? { enterprise_id: this.opts.enterpriseId } : {}) };
      case 'chat.postMessage': {
        const channel = String(args.channel ?? '');
        if (!this.knownConversation(channel)) return { ok: false, error: 'channel_not_found' };
        const blocks = asBlocks(args.blocks);
        const invalid = blocksProblem(blocks);
        if (invalid) return { ok: false, error: 'invalid_blocks', response_metadata: { messages: [`[ERROR] ${invalid}`] } };
        const id = this.users.has(channel) ? this.dmOf(channel) : channel;
        const ts = this.nextTs(at);
        const text = String(args.text ?? '');
        const threadTs = typeof args.thread_ts === 'string' ? args.thread_ts : null;
        const metadata = args.metadata && typeof args.metadata === 'object' ? (args.metadata as Record<string, unknown>) : null;
        this.messages.set(`${id}:${ts}`, { channel: id, ts, text, blocks: blocks ?? [], threadTs, metadata, deleted: false, history: [{ text, blocks: blocks ?? [], at }] });
        return { ok: true, channel: id, ts, message: { text, ts } };
      }
      case 'chat.update': {
        const key = `${String(args.channel)}:${String(args.ts)}`;
        const message = this.messages.get(key);
        if (!message || message.deleted) return { ok: false, error: 'message_not_found' };
        const blocks = asBlocks(args.blocks);
        const invalid = blocksProblem(blocks);
        if (invalid) return { ok: false, error: 'invalid_blocks', response_metadata: { messages: [`[ERROR] ${invalid}`] } };
        message.text = String(args.text ?? message.text);
        message.blocks = blocks ?? message.blocks;
        message.history.push({ text: message.text, blocks: message.blocks, at });
        return { ok: true, channel: message.channel, ts: message.ts };
      }
      case 'chat.delete': {
        const message = this.messages.get(`${String(args.channel)}:${String(args.ts)}`);
        if (!message || message.deleted) return { ok: false, error: 'message_not_found' };
        message.deleted = true;
        return { ok: true, channel: message.channel, ts: message.ts };
      }
      case 'conversations.history': {
        // Newest first, top-level messages only; metadata only when asked for, as Slack does.
        const channel = String(args.channel ?? '');
        if (!this.knownConversation(channel)) return { ok: false, error: 'channel_not_found' };
        const oldest = Number(args.oldest ?? 0);
        const withMetadata = args.include_all_metadata === true || args.include_all_metadata === 'true';
        const all = [...this.messages.values()]
          .filter((m) => m.channel === channel && m.threadTs === null && !m.deleted && Number(m.ts) > oldest)
          .sort((a, b) => Number(b.ts) - Number(a.ts));
        const limit = Math.min(Number(args.limit ?? 100) || 100, 1000);
        const start = Number(args.cursor ?? 0) || 0;
        const page = all.slice(start, start + limit);
        const more = start + limit < all.length;
        return {
          ok: true,
          messages: page.map((m) => ({ type: 'message', ts: m.ts, text: m.text, bot_id: BOT_ID, ...(withMetadata && m.metadata ? { metadata: m.metadata } : {}) })),
          has_more: more,
          response_metadata: { next_cursor: more ? String(start + limit) : '' },
        };
      }
      case 'chat.postEphemeral': {
        if (!this.knownConversation(String(args.channel ?? ''))) return { ok: false, error: 'channel_not_found' };
        if (typeof args.user !== 'string') return { ok: false, error: 'user_not_found' };
        return { ok: true, message_ts: this.nextTs(at) };
      }
      case 'views.open':
        if (typeof args.trigger_id !== 'string' || !args.trigger_id) return { ok: false, error: 'invalid_trigger_id' };
        if (!args.view || typeof args.view !== 'object') return { ok: false, error: 'invalid_arguments' };
        return { ok: true, view: { id: `V${String(++this.seq).padStart(8, '0')}`, ...(args.view as object) } };
      case 'users.info': {
        const user = this.users.get(String(args.user ?? ''));
        return user ? { ok: true, user: userObject(user) } : { ok: false, error: 'user_not_found' };
      }
      case 'users.lookupByEmail': {
        const email = String(args.email ?? '').toLowerCase();
        const user = [...this.users.values()].find((u) => u.email?.toLowerCase() === email && !u.deleted);
        return user ? { ok: true, user: userObject(user) } : { ok: false, error: 'users_not_found' };
      }
      case 'conversations.open': {
        const users = String(args.users ?? '').split(',').filter(Boolean);
        if (users.length !== 1 || !this.users.has(users[0]!)) return { ok: false, error: 'user_not_found' };
        return { ok: true, channel: { id: this.dmOf(users[0]!) } };
      }
      case 'conversations.list':
        return { ok: true, channels: [...this.channels.values()].map((c) => ({ id: c.id, name: c.name, is_archived: false })), response_metadata: { next_cursor: '' } };
      default:
        return { ok: false, error: 'unknown_method' };
    }
  }
}

function userObject(u: FakeSlackUser): Record<string, unknown> {
  return {
    id: u.id,
    team_id: u.team_id,
    name: u.name ?? u.id.toLowerCase(),
    deleted: u.deleted ?? false,
    is_bot: u.is_bot ?? false,
    is_email_confirmed: u.is_email_confirmed ?? false,
    profile: { ...(u.email ? { email: u.email } : {}) },
    ...(u.enterprise_id ? { enterprise_user: { id: u.id, enterprise_id: u.enterprise_id, teams: [u.team_id] } } : {}),
  };
}

/** The WebClient posts forms whose object values are JSON strings; JSON bodies are accepted too. */
function parseArgs(raw: string, contentType: string): Record<string, unknown> {
  if (contentType.startsWith('application/json')) return raw ? (JSON.parse(raw) as Record<string, unknown>) : {};
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(parseQuery(raw))) {
    const v = Array.isArray(value) ? value[0] : value;
    if (typeof v === 'string' && /^[[{]/.test(v)) {
      try {
        out[key] = JSON.parse(v);
        continue;
      } catch {
        // not JSON after all: keep the string
      }
    }
    out[key] = v;
  }
  return out;
}

function asBlocks(value: unknown): Record<string, unknown>[] | undefined {
  return Array.isArray(value) ? (value as Record<string, unknown>[]) : undefined;
}

function textLength(obj: unknown): number {
  return obj && typeof obj === 'object' && typeof (obj as { text?: unknown }).text === 'string' ? (obj as { text: string }).text.length : 0;
}

/** Block Kit's main limits, as Slack enforces them with `invalid_blocks`. */
export function blocksProblem(blocks: Record<string, unknown>[] | undefined): string | null {
  if (!blocks) return null;
  if (blocks.length > 50) return `${blocks.length} blocks; at most 50`;
  for (const [i, b] of blocks.entries()) {
    if (typeof b.type !== 'string') return `block ${i} has no type`;
    if (b.type === 'header' && textLength(b.text) > 150) return `header ${i} longer than 150`;
    if (b.type === 'section') {
      if (textLength(b.text) > 3000) return `section ${i} text longer than 3000`;
      const fields = (b.fields as unknown[] | undefined) ?? [];
      if (fields.length > 10) return `section ${i} has more than 10 fields`;
      if (fields.some((f) => textLength(f) > 2000)) return `section ${i} field longer than 2000`;
      if (!b.text && fields.length === 0) return `section ${i} has neither text nor fields`;
    }
    if (b.type === 'context' && ((b.elements as unknown[] | undefined)?.length ?? 0) > 10) return `context ${i} has more than 10 elements`;
    if (b.type === 'actions') {
      for (const e of (b.elements as Record<string, unknown>[] | undefined) ?? []) {
        if (typeof e.action_id === 'string' && e.action_id.length > 255) return `action_id longer than 255`;
        if (textLength(e.text) > 75) return 'button text longer than 75';
      }
    }
    if (typeof b.block_id === 'string' && b.block_id.length > 255) return `block_id longer than 255`;
  }
  return null;
}
