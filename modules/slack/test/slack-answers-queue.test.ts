import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { slackModule } from '@countersign/slack';
import { workerModule } from '@countersign/worker';
import { FakeSlack, type FakeMessage, type SlackCall } from '../../../test/fakes/slack-api.ts';
import { click, type Clicker } from '../../../test/fakes/slack-interactions.ts';
import { randomQueuePrefix } from '../../../test/support/database.ts';
import { startTestService, type TestService } from '../../../test/support/service.ts';

// Slack (or a proxy in front of it) answering in ways that are not plain successes, end to end:
// the real service, queue (BullMQ on Redis), Postgres and Bolt, the fake Slack Web API behind.
// - A 429 whose Retry-After is missing or an HTTP date: the card update waits (at least a
//   second; until the date), instead of running again at once some 500 times per attempt.
// - A 200 whose body is not Slack's JSON (a gateway's page): an update is retried until the
//   card shows the outcome; a post Slack did make is looked for and adopted, so the card that
//   went out shows the outcome too. The page's text is never a metric label.

const SECRET = 'answers-queue-signing-secret-0123';
const TEAM = 'T0TEAM0001';
const alice: Clicker = { id: 'U0ALICE01', teamId: TEAM }; // sre-lead

const NO_RETRY_AFTER = 'C0LIMNONE1';
const DATE_RETRY_AFTER = 'C0LIMDATE1';
const GARBLED_UPDATE = 'C0GARBUPD1';
const GARBLED_POST_DECIDED = 'C0GARBDEC1';
const GARBLED_POST_PENDING = 'C0GARBPEN1';
const NO_TS_POST = 'C0NOTSPOS1';
const CHANNELS = [NO_RETRY_AFTER, DATE_RETRY_AFTER, GARBLED_UPDATE, GARBLED_POST_DECIDED, GARBLED_POST_PENDING, NO_TS_POST];

const GATEWAY_PAGE = `<html><body><h1>502 Bad Gateway</h1>Gateway says hi ${'x'.repeat(2000)}</body></html>`;

const rule = (channel: string) => `
  - id: answers-${channel.toLowerCase()}
    when: 'action.type == "answers.${channel.toLowerCase()}"'
    outcome: escalate
    reason: one Slack channel
    requirement:
      approvers: [{ role: sre-lead, count: 1 }]
      expiresIn: 30m
      channels:
        slack: ['${channel}']
`;

const forAction = (id: string) => (m: FakeMessage) => m.threadTs === null && JSON.stringify(m.history[0]!.blocks).includes(id);
const hasButtons = (m: FakeMessage) => m.blocks.some((b) => b.type === 'actions');
const shows = (m: FakeMessage, word: string) => (m.blocks[0] as { text?: { text?: string } }).text?.text?.startsWith(`${word}:`) === true;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, Math.max(0, ms)));

let fake: FakeSlack;
let t: TestService;

beforeAll(async () => {
  fake = await FakeSlack.start({
    teamId: TEAM,
    channels: CHANNELS.map((id) => ({ id, name: id.toLowerCase() })),
    users: [{ id: alice.id, team_id: TEAM, email: 'alice@example.com', is_email_confirmed: true }],
  });
  const fixture = fs.readFileSync(path.resolve(import.meta.dirname, '../../../test/fixtures/policy.yaml'), 'utf8');
  t = await startTestService({
    policy: `${fixture.trimEnd()}\n${CHANNELS.map(rule).join('')}`,
    modules: [slackModule, workerModule],
    env: {
      SLACK_BOT_TOKEN: fake.token,
      SLACK_SIGNING_SECRET: SECRET,
      SLACK_TEAM_ID: TEAM,
      SLACK_API_URL: fake.url,
      COUNTERSIGN_QUEUE_PREFIX: randomQueuePrefix(),
      COUNTERSIGN_OUTBOX_POLL_MS: '250',
      COUNTERSIGN_SWEEP_SECONDS: '3600',
      COUNTERSIGN_CHANNEL_PACING_MS: 'slack=0',
    },
  });
}, 60_000);
afterAll(async () => {
  await t?.stop();
  await fake?.close();
});

async function submit(channel: string): Promise<string> {
  const res = await t.api('POST', '/v1/actions', { token: t.tokens['deploy-bot'], body: { action: { type: `answers.${channel.toLowerCase()}`, resource: `db/${channel}` } } });
  expect(res.status, res.text).toBe(201);
  expect(res.body.status).toBe('pending');
  return res.body.id as string;
}
const cardOf = (channel: string, id: string) => fake.cardsIn(channel).filter(forAction(id));
const cardRows = (id: string) => t.prisma.channelCard.findMany({ where: { actionId: id, NOT: { target: { startsWith: 'notice/' } } } });
const updatesOf = (card: FakeMessage): SlackCall[] => fake.callsTo('chat.update').filter((c) => c.args.channel === card.channel && c.args.ts === card.ts);

async function approve(channel: string, id: string): Promise<FakeMessage> {
  const [card] = await fake.waitFor(() => cardOf(channel, id).length === 1 && cardOf(channel, id), 15_000, 'the card');
  const res = await click(t.url, SECRET, { user: alice, decision: 'approve', actionId: id, channel, messageTs: card!.ts });
  expect(res.status).toBe(200);
  return card!;
}
/** Each case waits up to 30 s for a card; the case itself gets longer. */
const CASE_TIMEOUT_MS = 60_000;
const showsOutcome = (card: FakeMessage, word: string) => fake.waitFor(() => !hasButtons(card) && shows(card, word), 30_000, `the card showing ${word}`);

describe('a 429 on a card update', () => {
  it('without Retry-After: the update waits a second between tries, and the card ends showing the outcome', async () => {
    const id = await submit(NO_RETRY_AFTER);
    let limiting = true;
    const match = (args: Record<string, unknown>) => limiting && args.channel === NO_RETRY_AFTER;
    fake.script('chat.update', ...Array.from({ length: 1000 }, () => ({ status: 429, body: { ok: false, error: 'ratelimited' }, match })));
    const card = await approve(NO_RETRY_AFTER, id);

    await fake.waitFor(() => updatesOf(card).length > 0, 15_000, 'the first update');
    // Each run of the update job asks once, then waits at least a second: over 2.5 s, a few
    // tries (fewer on a slow machine), never the dozens a retry at once makes.
    await sleep(2_500);
    const tries = updatesOf(card).length;
    limiting = false;
    expect(updatesOf(card).slice(0, tries).every((c) => c.status === 429)).toBe(true);
    expect(tries).toBeLessThanOrEqual(6);

    await showsOutcome(card, 'Approved');
  }, CASE_TIMEOUT_MS);

  it('with an HTTP-date Retry-After: no try before that date, then the card shows the outcome', async () => {
    const id = await submit(DATE_RETRY_AFTER);
    // A whole second, 5 s ahead: what an HTTP date can say.
    const until = Math.ceil((Date.now() + 5_000) / 1000) * 1000;
    let limiting = true;
    const match = (args: Record<string, unknown>) => limiting && args.channel === DATE_RETRY_AFTER;
    const headers = { 'retry-after': new Date(until).toUTCString() };
    fake.script('chat.update', ...Array.from({ length: 1000 }, () => ({ status: 429, headers, body: { ok: false, error: 'ratelimited' }, match })));
    const card = await approve(DATE_RETRY_AFTER, id);

    await fake.waitFor(() => updatesOf(card).length > 0, 15_000, 'the first update');
    await sleep(until - Date.now() + 100);
    limiting = false;
    // One try per run of the update job before the date (one run here), not one every few ms.
    expect(updatesOf(card).filter((c) => c.at < until).length).toBeLessThanOrEqual(2);

    await showsOutcome(card, 'Approved');
    const done = updatesOf(card).find((c) => c.status === 200)!;
    expect(done.at).toBeGreaterThanOrEqual(until);
  }, CASE_TIMEOUT_MS);
});

describe('a 200 whose body is not Slack’s JSON', () => {
  it('on a card update: retried until the card shows the outcome; the page is in no label, log code or card row', async () => {
    const id = await submit(GARBLED_UPDATE);
    fake.script('chat.update', { status: 200, rawBody: GATEWAY_PAGE, match: (args) => args.channel === GARBLED_UPDATE });
    const card = await approve(GARBLED_UPDATE, id);

    await showsOutcome(card, 'Approved');
    const updates = updatesOf(card);
    expect(updates[0]!.raw).toBe(GATEWAY_PAGE);
    expect(updates.at(-1)!.status).toBe(200);
    const [row] = await cardRows(id);
    expect(row!.state).toBe('posted');
    expect(row!.error ?? '').not.toMatch(/Gateway|<html/);

    const metrics = (await t.api('GET', '/metrics')).text.split('\n');
    const failures = metrics.filter((l) => l.startsWith('countersign_slack_api_failures_total{'));
    expect(failures.some((l) => l.includes('method="chat.update"') && l.includes('code="bad_response"') && l.includes('retryable="true"'))).toBe(true);
    for (const line of metrics.filter((l) => l.startsWith('countersign_slack_api_failures_total{') || l.startsWith('countersign_channel_errors_total{'))) {
      expect(line).not.toMatch(/Gateway|<html/);
      expect(line.length).toBeLessThan(300);
    }
  }, CASE_TIMEOUT_MS);

  it('on a post Slack made, the action decided before any retry: the card is found by its id and shows the outcome', async () => {
    let answer!: () => void;
    fake.script('chat.postMessage', { accept: true, status: 200, rawBody: GATEWAY_PAGE, until: new Promise<void>((r) => (answer = r)), match: (args) => args.channel === GARBLED_POST_DECIDED });
    // Cancelled while the post is in flight, so the post-cards job never retries it: only the
    // decision's card update can find the card.
    const cancelled = new Promise<void>((resolve, reject) => {
      let armed = true;
      fake.onArrive((call) => {
        if (!armed || call.method !== 'chat.postMessage' || call.args.channel !== GARBLED_POST_DECIDED) return;
        armed = false;
        const id = /countersign:approve:([A-Za-z0-9_-]+)/.exec(JSON.stringify(call.args.blocks))?.[1];
        if (!id) return reject(new Error('no action id on the card'));
        t.api('POST', `/v1/actions/${id}/cancel`, { token: t.tokens['deploy-bot'], body: { reason: 'not needed' } }).then((r) => (r.status === 200 ? resolve() : reject(new Error(r.text))), reject);
      });
    });
    const id = await submit(GARBLED_POST_DECIDED);
    await cancelled;
    answer();

    const [card] = await fake.waitFor(() => cardOf(GARBLED_POST_DECIDED, id).length === 1 && cardOf(GARBLED_POST_DECIDED, id), 15_000, 'the card');
    await showsOutcome(card!, 'Cancelled');
    expect(fake.callsTo('chat.postMessage').find((c) => c.args.channel === GARBLED_POST_DECIDED)!.raw).toBe(GATEWAY_PAGE);
    const rows = await fake.waitFor(async () => {
      const r = await cardRows(id);
      return r.length === 1 && r[0]!.state === 'posted' && r;
    }, 30_000, 'the row posted');
    expect(rows[0]!.messageRef).toEqual({ channel: GARBLED_POST_DECIDED, ts: card!.ts });
    expect(cardOf(GARBLED_POST_DECIDED, id)).toHaveLength(1);
  }, CASE_TIMEOUT_MS);

  it('on a post Slack made, still pending: the retry adopts that card instead of posting another, and the click shows the outcome on it', async () => {
    fake.script('chat.postMessage', { accept: true, status: 200, rawBody: GATEWAY_PAGE, match: (args) => args.channel === GARBLED_POST_PENDING });
    const id = await submit(GARBLED_POST_PENDING);
    await fake.waitFor(async () => (await cardRows(id))[0]?.state === 'posted', 30_000, 'the row posted');
    const card = await approve(GARBLED_POST_PENDING, id);

    await showsOutcome(card, 'Approved');
    expect(cardOf(GARBLED_POST_PENDING, id)).toHaveLength(1);
    expect((await cardRows(id))[0]!.messageRef).toEqual({ channel: GARBLED_POST_PENDING, ts: card.ts });
  }, CASE_TIMEOUT_MS);

  it('on a post Slack made but answered ok without channel/ts: in doubt as well, the card is adopted, not given up or posted twice', async () => {
    fake.script('chat.postMessage', { accept: true, status: 200, body: { ok: true }, match: (args) => args.channel === NO_TS_POST });
    const id = await submit(NO_TS_POST);
    await fake.waitFor(async () => (await cardRows(id))[0]?.state === 'posted', 30_000, 'the row posted');
    const card = await approve(NO_TS_POST, id);

    await showsOutcome(card, 'Approved');
    expect(cardOf(NO_TS_POST, id)).toHaveLength(1);
    expect((await cardRows(id))[0]!.messageRef).toEqual({ channel: NO_TS_POST, ts: card.ts });
  }, CASE_TIMEOUT_MS);
});
