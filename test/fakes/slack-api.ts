import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parse as parseQuery } from 'node:querystring';

// A local stand-in for the Slack Web API (https://slack.com/api/<method>): enough of it for
// countersign's Slack app, pointed at through SLACK_API_URL (Bolt's and the WebClient's
// `slackApiUrl`). It records every call, keeps the messages it was asked to post so tests can
// read a card's current blocks, checks the bot token and Block Kit's main limits, and can be
// scripted: "answer 429 with Retry-After 1 once, then behave", "answer invalid_blocks".

export interface SlackCall {
  method: string;
  args: Record<string, unknown>;
  /** Date.now() when the call arrived. */
  at: number;
  /** What the fake answered (after scripting). */
  status: number;
  response: Record<string, unknown>;
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

  constructor(private readonly opts: FakeSlackOptions = {}) {
    this.token = opts.token ?? 'xoxb-test-token';
    this.teamId = opts.teamId ?? 'T0TEAM0001';
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
    this.server.keepAliveTimeout = 1000;
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    const { port } = this.server.address() as AddressInfo;
    this.url = `http://127.0.0.1:${port}/api/`;
  }

  async close(): Promise<void> {
    if (!this.server) return;
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

  callsTo(method: string): SlackCall[] {
    return this.calls.filter((c) => c.method === method);
  }

  /** Successful calls only. */
  okCallsTo(method: string): SlackCall[] {
    return this.callsTo(method).filter((c) => c.response.ok === true);
  }

  /** Top-level messages (not thread replies) posted in a channel, oldest first. */
  cardsIn(channel: string): FakeMessage[] {
    return [...this.messages.values()].filter((m) => m.channel === channel && m.threadTs === null);
  }

  threadReplies(channel: string, ts: string): FakeMessage[] {
    return [...this.messages.values()].filter((m) => m.channel === channel && m.threadTs === ts);
  }

  /** The DM channel id the fake hands out for a user (conversations.open). */
  dmOf(userId: string): string {
    return `D${userId.slice(1)}`;
  }

  /** Polls `check` until it returns a truthy value (or throws after `timeoutMs`). */
  async waitFor<T>(check: () => T | undefined | null | false | Promise<T | undefined | null | false>, timeoutMs = 10_000, what = 'condition'): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = await check();
      if (value) return value;
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

    const scripted = this.takeScripted(method, args);
    let status = 200;
    let headers: Record<string, string> = {};
    let body: Record<string, unknown>;
    if (scripted) {
      if (scripted.delayMs) await new Promise((r) => setTimeout(r, scripted.delayMs));
      status = scripted.status ?? 200;
      headers = scripted.headers ?? {};
      body = scripted.body ?? { ok: true };
    } else {
      const auth = req.headers.authorization ?? (typeof args.token === 'string' ? `Bearer ${args.token}` : '');
      if (auth !== `Bearer ${this.token}`) body = { ok: false, error: 'invalid_auth' };
      else {
        const limited = this.channelLimited(method, args, at);
        if (limited) {
          status = 429;
          headers = { 'retry-after': '1' };
          body = { ok: false, error: 'ratelimited' };
        } else body = this.answer(method, args, at);
      }
    }
    const call: SlackCall = { method, args, at, status, response: body };
    this.calls.push(call);
    for (const listener of this.listeners) listener(call);
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
        this.messages.set(`${id}:${ts}`, { channel: id, ts, text, blocks: blocks ?? [], threadTs, history: [{ text, blocks: blocks ?? [], at }] });
        return { ok: true, channel: id, ts, message: { text, ts } };
      }
      case 'chat.update': {
        const key = `${String(args.channel)}:${String(args.ts)}`;
        const message = this.messages.get(key);
        if (!message) return { ok: false, error: 'message_not_found' };
        const blocks = asBlocks(args.blocks);
        const invalid = blocksProblem(blocks);
        if (invalid) return { ok: false, error: 'invalid_blocks', response_metadata: { messages: [`[ERROR] ${invalid}`] } };
        message.text = String(args.text ?? message.text);
        message.blocks = blocks ?? message.blocks;
        message.history.push({ text: message.text, blocks: message.blocks, at });
        return { ok: true, channel: message.channel, ts: message.ts };
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
