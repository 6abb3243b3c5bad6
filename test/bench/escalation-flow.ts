import http from 'node:http';
import type { FakeSlack, SlackCall } from '../fakes/slack-api.ts';
import { blockActionPayload, formBody, slackSignature } from '../fakes/slack-interactions.ts';
import { REVIEWER, SLACK_SECRET } from './slack-stack.ts';

// The people around an escalation, for the Slack benchmarks: an agent submits and long-polls,
// the reviewer clicks Approve on the card as soon as it reaches the fake Slack.

export interface Percentiles {
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

export function percentiles(values: number[]): Percentiles {
  const s = [...values].sort((a, b) => a - b);
  const q = (p: number) => (s.length ? s[Math.min(s.length - 1, Math.ceil(p * s.length) - 1)]! : Number.NaN);
  return { p50: q(0.5), p95: q(0.95), p99: q(0.99), max: s.length ? s[s.length - 1]! : Number.NaN };
}

/** The action id a top-level card is about (its Approve button carries it). */
export function cardActionId(call: SlackCall): string | null {
  if (call.method !== 'chat.postMessage' || call.status !== 200 || call.response.ok !== true || call.args.thread_ts) return null;
  const blocks = call.args.blocks as { type: string; elements?: { action_id?: string }[] }[] | undefined;
  const id = blocks?.find((b) => b.type === 'actions')?.elements?.[0]?.action_id;
  return id?.startsWith('countersign:approve:') ? id.slice('countersign:approve:'.length) : null;
}

/** Watches the fake Slack: the card posted for each action, and which messages were updated. */
export class SlackWatch {
  private readonly cards = new Map<string, SlackCall>();
  private readonly waiters = new Map<string, (call: SlackCall) => void>();
  /** chat.update calls Slack took, by message ts. */
  readonly updates = new Map<string, number>();

  constructor(fake: FakeSlack) {
    fake.onCall((call) => {
      if (call.method === 'chat.update' && call.status === 200 && call.response.ok === true) {
        const ts = String(call.args.ts);
        this.updates.set(ts, (this.updates.get(ts) ?? 0) + 1);
        return;
      }
      const id = cardActionId(call);
      if (!id) return;
      this.cards.set(id, call);
      this.waiters.get(id)?.(call);
      this.waiters.delete(id);
    });
  }

  get cardCount(): number {
    return this.cards.size;
  }

  card(actionId: string): SlackCall | undefined {
    return this.cards.get(actionId);
  }

  /** The card's chat.postMessage, once Slack took it; rejects after `timeoutMs`. */
  posted(actionId: string, timeoutMs: number): Promise<SlackCall> {
    const seen = this.cards.get(actionId);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.delete(actionId);
        reject(new Error(`no card for ${actionId} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiters.set(actionId, (call) => {
        clearTimeout(timer);
        resolve(call);
      });
    });
  }
}

/**
 * The agents' and the reviewer's requests go over node:http with kept-alive connections, not
 * fetch: at the sustained rates the machine is the limit, and fetch (undici, web streams) cost
 * this process about a fifth of its CPU, time the service and Postgres did not get. What the
 * service receives is the same.
 */
const requestAgent = new http.Agent({ keepAlive: true });

function post(url: string, headers: Record<string, string>, body: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: 'POST', agent: requestAgent, headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (text += d));
      res.on('error', reject);
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

export async function submitEscalation(apiUrl: string, token: string, channel: number, i: number): Promise<string> {
  const res = await post(
    `${apiUrl}/v1/actions`,
    { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    JSON.stringify({ action: { type: 'bench.slack', resource: `res-${channel}`, summary: `Bench escalation ${i}` }, risk: { class: 'write' } }),
  );
  const body = JSON.parse(res.text) as { id: string; status: string };
  if (body.status !== 'pending') throw new Error(`escalation ${i}: ${res.status} ${res.text}`);
  return body.id;
}

/** Kept-alive connections, as fetch would keep them (one per long-poll in flight). */
const pollAgent = new http.Agent({ keepAlive: true });

/**
 * The agent's long-poll (GET /v1/actions/:id?wait=N): `sent` settles once the request is written
 * to the socket (the server has it to read), `answer` with when it answered and the final status.
 */
export function openLongPoll(apiUrl: string, token: string, id: string, seconds: number): { sent: Promise<void>; answer: Promise<{ at: number; status: string; httpStatus: number }> } {
  let sent!: () => void;
  const sentP = new Promise<void>((resolve) => (sent = resolve));
  const answer = new Promise<{ at: number; status: string; httpStatus: number }>((resolve, reject) => {
    const req = http.get(`${apiUrl}/v1/actions/${id}?wait=${seconds}`, { agent: pollAgent, headers: { authorization: `Bearer ${token}` } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (text += d));
      res.on('error', reject);
      res.on('end', () => {
        const at = Date.now();
        try {
          const body = JSON.parse(text) as { status: string; releaseToken?: string };
          if (body.status === 'approved' && !body.releaseToken) throw new Error(`${id} approved without a release token`);
          resolve({ at, status: body.status, httpStatus: res.statusCode ?? 0 });
        } catch (err) {
          reject(err instanceof Error ? err : new Error(String(err)));
        }
      });
    });
    req.on('finish', () => sent());
    req.on('error', (err) => {
      sent();
      reject(err);
    });
  });
  return { sent: sentP, answer };
}

/** The reviewer clicks Approve on the card (a signed block_actions post to /slack/events). */
export async function approveCard(apiUrl: string, id: string, card: SlackCall): Promise<void> {
  const body = formBody(blockActionPayload({ user: REVIEWER, decision: 'approve', actionId: id, channel: String(card.response.channel), messageTs: String(card.response.ts) }));
  const timestamp = Math.floor(Date.now() / 1000);
  const answer = await post(
    `${apiUrl}/slack/events`,
    { 'content-type': 'application/x-www-form-urlencoded', 'x-slack-request-timestamp': String(timestamp), 'x-slack-signature': slackSignature(SLACK_SECRET, timestamp, body) },
    body,
  );
  if (answer.status !== 200) throw new Error(`click on ${id}: ${answer.status}`);
}

export interface EscalationTiming {
  id: string;
  submittedAt: number;
  /** POST /v1/actions sent → the card's chat.postMessage reaching Slack. */
  cardMs: number;
  /** The deciding click sent → the agent's long-poll answering "approved". */
  releaseMs: number;
}

/**
 * One escalation, start to end: submit (to `urls[0]`), long-poll from the moment there is an id
 * (`urls[1]`), click Approve as soon as the card is posted (`urls[2]`): a cluster spreads the
 * three over its API processes as a load balancer would.
 */
export async function escalate(opts: { urls: [string, string, string]; token: string; channel: number; i: number; watch: SlackWatch; timeoutMs: number }): Promise<EscalationTiming> {
  const [submitUrl, pollUrl, clickUrl] = opts.urls;
  const submittedAt = Date.now();
  const id = await submitEscalation(submitUrl, opts.token, opts.channel, opts.i);
  const released = openLongPoll(pollUrl, opts.token, id, Math.ceil(opts.timeoutMs / 1000)).answer;
  // Not left unhandled if the card never comes.
  released.catch(() => undefined);
  const card = await opts.watch.posted(id, opts.timeoutMs);
  const clickedAt = Date.now();
  await approveCard(clickUrl, id, card);
  const verdict = await released;
  if (verdict.status !== 'approved') throw new Error(`escalation ${opts.i} ended ${verdict.status}`);
  return { id, submittedAt, cardMs: card.at - submittedAt, releaseMs: verdict.at - clickedAt };
}

/** Runs `n` tasks at `concurrency`, in order of index. */
export async function inPool(n: number, concurrency: number, task: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  // After a failure no task starts: the caller's clean-up does not race tasks still starting.
  let failed = false;
  await Promise.all(
    Array.from({ length: Math.min(n, concurrency) }, async () => {
      while (next < n && !failed) {
        try {
          await task(next++);
        } catch (err) {
          failed = true;
          throw err;
        }
      }
    }),
  );
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
