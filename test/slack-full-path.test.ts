import fs from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { verifyReleaseToken } from '@countersign/evidence';
import { slackModule } from '@countersign/slack';
import { workerEngine, workerModule } from '@countersign/worker';
import { FakeSlack, type FakeMessage } from './fakes/slack-api.ts';
import { click, type Clicker } from './fakes/slack-interactions.ts';
import { deletePrefixKeys } from './fakes/queue-harness.ts';
import { randomQueuePrefix } from './support/database.ts';
import { outboxDispatched } from './support/outbox.ts';
import { startTestService, type TestService } from './support/service.ts';

// The whole path through Slack: POST /v1/actions → the queue posts cards into the fake Slack →
// signed clicks from the right roles → cards updated in place → the waiting agent's long-poll
// returns approved with a release token → the requester is told by DM. Then the timers
// (reminder, escalation tier, expiry) as Slack shows them, and Redis losing its data.
// The queue engine's own guarantees (one card per target, idempotent jobs, sweeper) are
// covered by test/queue-*.test.ts; here we assert what people see in Slack.

const SECRET = 'full-path-signing-secret-0123';
const TEAM = 'T0TEAM0001';
const APPROVALS = 'C0APPROVE1';
const SECONDARY = 'C0SECOND01';
const OPS = 'C0OPSAPPR1';
const LATE = 'C0LATEAPP1';
const EXISTS = 'C0EXISTS01';

const alice: Clicker = { id: 'U0ALICE01', teamId: TEAM };
const bob: Clicker = { id: 'U0BOB0001', teamId: TEAM };

const RULES = `
  - id: slack-full-path
    when: 'action.type == "slack.full"'
    outcome: escalate
    reason: production change needs an SRE lead and security
    requirement:
      approvers: [{ role: sre-lead, count: 1 }, { role: security, count: 1 }]
      expiresIn: 30m
      channels:
        slack: ['#prod-approvals']
        people: [bob]
        reminders: [5m]
        tiers:
          - { after: 10m, slack: ['#sre-secondary'], people: [judy] }

  - id: slack-one-channel
    when: 'action.type == "slack.one"'
    outcome: escalate
    reason: one channel
    requirement:
      approvers: [{ role: sre-lead, count: 1 }]
      expiresIn: 30m
      channels:
        slack: ['${OPS}']

  - id: slack-late
    when: 'action.type == "slack.late"'
    outcome: escalate
    reason: one channel, Slack slow to answer
    requirement:
      approvers: [{ role: sre-lead, count: 1 }]
      expiresIn: 30m
      channels:
        slack: ['${LATE}']

  - id: slack-missing
    when: 'action.type == "slack.missing"'
    outcome: escalate
    reason: a channel and a person the workspace does not have, and one that exists
    requirement:
      approvers: [{ role: sre-lead, count: 1 }]
      expiresIn: 30m
      channels:
        slack: ['#no-such-channel', '${EXISTS}']
        people: [frank]
`;

const fullIntent = {
  action: { type: 'slack.full', resource: 'env/prod-eu-1', summary: 'Delete prod-eu-1', params: { region: 'eu-1' } },
  context: { environment: 'production' },
  risk: { class: 'destructive', urgency: 'high' },
  justification: 'region decommissioned',
};

let fake: FakeSlack;
let t: TestService;
let prefix: string;

beforeAll(async () => {
  fake = await FakeSlack.start({
    teamId: TEAM,
    channels: [
      { id: APPROVALS, name: 'prod-approvals' },
      { id: SECONDARY, name: 'sre-secondary' },
      { id: OPS, name: 'ops-approvals' },
      { id: LATE, name: 'late-approvals' },
      { id: EXISTS, name: 'exists-approvals' },
    ],
    users: [
      { id: alice.id, team_id: TEAM, email: 'alice@example.com', is_email_confirmed: true },
      { id: bob.id, team_id: TEAM, email: 'bob@example.com', is_email_confirmed: true },
      { id: 'U0ERIN001', team_id: TEAM, email: 'erin@example.com', is_email_confirmed: true },
      { id: 'U0JUDY001', team_id: TEAM, email: 'judy@example.com', is_email_confirmed: true },
    ],
  });
  prefix = randomQueuePrefix();
  const fixture = fs.readFileSync(path.resolve(import.meta.dirname, 'fixtures', 'policy.yaml'), 'utf8');
  t = await startTestService({
    policy: `${fixture.trimEnd()}\n${RULES}`,
    modules: [slackModule, workerModule],
    env: {
      SLACK_BOT_TOKEN: fake.token,
      SLACK_SIGNING_SECRET: SECRET,
      SLACK_TEAM_ID: TEAM,
      SLACK_API_URL: fake.url,
      COUNTERSIGN_QUEUE_PREFIX: prefix,
      COUNTERSIGN_OUTBOX_POLL_MS: '250',
      // Sweeps are run by hand after moving the clock; the periodic one stays out of the way.
      COUNTERSIGN_SWEEP_SECONDS: '3600',
      COUNTERSIGN_CHANNEL_PACING_MS: 'slack=1000',
      // Short enough for the "answered too late" test to outwait; the fake answers in ms.
      SLACK_API_TIMEOUT_MS: '2000',
    },
  });
});
afterAll(async () => {
  await t?.stop();
  await fake?.close();
});

let clockMoved = 0;
function advance(ms: number) {
  t.clock.advance(ms);
  clockMoved += ms;
}
afterEach(() => {
  t.clock.advance(-clockMoved);
  clockMoved = 0;
});

const engine = () => workerEngine(t.service.context)!;
const status = async (id: string) => (await t.service.context.store.findAction(id))!.status;
const forAction = (id: string) => (m: FakeMessage) => JSON.stringify(m.history[0]!.blocks).includes(id);
const cardIn = (channel: string, id: string) => fake.cardsIn(channel).find(forAction(id));
const hasButtons = (m: FakeMessage) => m.blocks.some((b) => b.type === 'actions');
const text = (m: FakeMessage) => JSON.stringify(m.blocks);

async function submit(intent: unknown): Promise<string> {
  const res = await t.api('POST', '/v1/actions', { token: t.tokens['deploy-bot']!, body: intent });
  expect(res.status, res.text).toBe(201);
  expect(res.body.status).toBe('pending');
  return res.body.id as string;
}

async function press(who: Clicker, card: FakeMessage, id: string) {
  const res = await click(t.url, SECRET, { user: who, decision: 'approve', actionId: id, channel: card.channel, messageTs: card.ts });
  expect(res.status).toBe(200);
}

describe('Slack full path', () => {
  it('request → cards → two approvals from the right roles → cards updated → agent released → requester told', async () => {
    const id = await submit(fullIntent);
    const waiting = t.api('GET', `/v1/actions/${id}?wait=25`, { token: t.tokens['deploy-bot'] });

    const channelCard = await fake.waitFor(() => cardIn(APPROVALS, id), 10_000, 'card in #prod-approvals');
    const bobsCard = await fake.waitFor(() => cardIn(fake.dmOf(bob.id), id), 10_000, "card in bob's DM");
    expect(text(channelCard)).toContain('0 of 2');
    expect(hasButtons(channelCard)).toBe(true);

    await press(alice, channelCard, id);
    // Every card shows the progress, not just the clicked one (the queue's update job).
    await fake.waitFor(() => text(cardIn(fake.dmOf(bob.id), id)!).includes('1 of 2: still needs security'), 10_000, "progress on bob's card");

    const clickedAt = Date.now();
    await press(bob, bobsCard, id);
    const released = await waiting;
    const releaseMs = Date.now() - clickedAt;
    expect(released.body).toMatchObject({ id, status: 'approved' });
    // The target is p95 < 1 s (test/bench/slack-escalations.ts measures it); one sample on a
    // busy test machine gets some slack, but a release that waits for a timer would fail.
    expect(releaseMs).toBeLessThan(2500);
    const jwks = (await t.api('GET', '/.well-known/jwks.json')).body;
    const claims = await verifyReleaseToken(released.body.releaseToken, { keys: jwks, audience: 'countersign-release', issuer: 'countersign', intentHash: released.body.intentHash });
    expect(claims.sub).toBe(id);

    for (const where of [APPROVALS, fake.dmOf(bob.id)]) {
      const m = await fake.waitFor(() => {
        const c = cardIn(where, id);
        return c && !hasButtons(c) && c;
      }, 10_000, `final card in ${where}`);
      expect(text(m)).toContain('Approved by Bob (bob)');
      // The heading is countersign's own words (status and action type); the summary is the agent's.
      expect(m.blocks[0]).toMatchObject({ type: 'header', text: { text: 'Approved: slack.full' } });
    }
    // The requester (the agent's owner, erin) hears of it by DM.
    const dm = await fake.waitFor(() => fake.cardsIn(fake.dmOf('U0ERIN001')).find((m) => m.text.includes(id)), 10_000, 'DM to erin');
    expect(dm.text).toMatch(/Approved/);
    // Exactly one card per target for this action.
    expect(fake.cardsIn(APPROVALS).filter(forAction(id))).toHaveLength(1);
    expect(fake.cardsIn(fake.dmOf(bob.id)).filter(forAction(id))).toHaveLength(1);
  });

  it('a reminder goes to the card threads and the next tier is asked when its time comes', async () => {
    const id = await submit(fullIntent);
    const channelCard = await fake.waitFor(() => cardIn(APPROVALS, id), 10_000, 'card');
    await fake.waitFor(() => cardIn(fake.dmOf(bob.id), id), 10_000, "bob's card");
    await outboxDispatched(t.prisma, id);

    advance(5 * 60_000 + 1_000);
    await engine().sweeper.sweep();
    const reminder = await fake.waitFor(() => fake.threadReplies(APPROVALS, channelCard.ts)[0], 10_000, 'reminder in the thread');
    expect(reminder.text).toMatch(/Reminder/);
    expect(cardIn(SECONDARY, id)).toBeUndefined(); // the tier is not due yet

    advance(5 * 60_000);
    await engine().sweeper.sweep();
    const tierCard = await fake.waitFor(() => cardIn(SECONDARY, id), 10_000, 'tier-1 card in #sre-secondary');
    await fake.waitFor(() => cardIn(fake.dmOf('U0JUDY001'), id), 10_000, "tier-1 card in judy's DM");
    expect(hasButtons(tierCard)).toBe(true);
    expect(await status(id)).toBe('pending');
  });

  it('Redis losing its data mid-run: the pending action still expires on time and Slack shows it', async () => {
    const id = await submit(fullIntent);
    await fake.waitFor(() => cardIn(APPROVALS, id), 10_000, 'card');
    await fake.waitFor(() => cardIn(fake.dmOf(bob.id), id), 10_000, "bob's card");

    expect(await deletePrefixKeys(prefix)).toBeGreaterThan(0);

    advance(29 * 60_000);
    await engine().sweeper.sweep();
    expect(await status(id)).toBe('pending'); // not a minute early
    advance(60_000 + 1_000);
    await engine().sweeper.sweep();
    await fake.waitFor(async () => (await status(id)) === 'expired', 10_000, 'expired');

    for (const where of [APPROVALS, fake.dmOf(bob.id)]) {
      const m = await fake.waitFor(() => {
        const c = cardIn(where, id);
        return c && !hasButtons(c) && c;
      }, 10_000, `expired card in ${where}`);
      expect(text(m)).toContain('Expired: not approved in time, so refused');
    }
    await fake.waitFor(() => fake.cardsIn(fake.dmOf('U0ERIN001')).find((m) => m.text.includes(id) && /Expired/.test(m.text)), 10_000, 'DM to erin');
    // A click now is refused and says so.
    const card = cardIn(APPROVALS, id)!;
    const before = fake.okCallsTo('chat.postEphemeral').length;
    await press(alice, card, id);
    const eph = await fake.waitFor(() => fake.okCallsTo('chat.postEphemeral')[before], 5_000, 'ephemeral');
    expect(String(eph.args.text)).toMatch(/expired/);
  });

  it('Slack answering 429 then 200: the card is posted once, after Retry-After', async () => {
    // Only the card's channel is limited: DMs of earlier tests' outcomes may still be going out.
    fake.rateLimitNext('chat.postMessage', 1, 1, (args) => args.channel === OPS);
    const id = await submit({ action: { type: 'slack.one', resource: 'db/main' } });
    const card = await fake.waitFor(() => cardIn(OPS, id), 15_000, 'card after the 429');
    const attempts = fake.callsTo('chat.postMessage').filter((c) => c.args.channel === OPS && JSON.stringify(c.args.blocks).includes(id));
    expect(attempts.map((a) => a.status)).toEqual([429, 200]);
    expect(attempts[1]!.at - attempts[0]!.at).toBeGreaterThanOrEqual(1000);
    expect(fake.cardsIn(OPS).filter(forAction(id))).toHaveLength(1);
    expect(hasButtons(card)).toBe(true);
  });

  it('invalid_blocks fails the card for good: not retried', async () => {
    fake.failNext('chat.postMessage', 'invalid_blocks', 1, (args) => args.channel === OPS);
    const id = await submit({ action: { type: 'slack.one', resource: 'db/other' } });
    const rows = () => t.prisma.channelCard.findMany({ where: { actionId: id } });
    const row = await fake.waitFor(async () => (await rows()).find((r) => r.state === 'failed'), 10_000, 'failed card row');
    expect(row.error).toMatch(/invalid_blocks/);
    await new Promise((r) => setTimeout(r, 1500));
    const attempts = fake.callsTo('chat.postMessage').filter((c) => JSON.stringify(c.args.blocks ?? '').includes(id));
    expect(attempts).toHaveLength(1);
    expect(cardIn(OPS, id)).toBeUndefined();
    const metrics = await t.api('GET', '/metrics');
    expect(metrics.text).toMatch(/countersign_slack_api_failures_total\{method="chat.postMessage",code="invalid_blocks",retryable="false"\} [1-9]/);
  });
});

describe('Slack posting: exactly once, failures visible', () => {
  async function metric(line: RegExp): Promise<number> {
    const found = (await t.api('GET', '/metrics')).text.split('\n').find((l) => line.test(l));
    return found ? Number(found.split(' ').at(-1)) : 0;
  }

  it('a post Slack accepted but answered after the client timeout is found again, not posted twice; its buttons still work', async () => {
    // Slack posts the card at once but answers after 3 s; the client gives up after 2 s.
    fake.script('chat.postMessage', { lateMs: 3_000, match: (args) => args.channel === LATE });
    const id = await submit({ action: { type: 'slack.late', resource: 'db/late' } });
    const rows = () => t.prisma.channelCard.findMany({ where: { actionId: id } });
    const row = await fake.waitFor(async () => (await rows()).find((r) => r.state === 'posted'), 20_000, 'card row posted');

    const cards = fake.cardsIn(LATE).filter(forAction(id));
    expect(cards).toHaveLength(1);
    expect(row.messageRef).toEqual({ channel: LATE, ts: cards[0]!.ts });
    const posts = fake.callsTo('chat.postMessage').filter((c) => c.args.channel === LATE && JSON.stringify(c.args.blocks).includes(id));
    expect(posts).toHaveLength(1);
    expect(posts[0]!.args.metadata).toEqual({ event_type: 'countersign_card', event_payload: { card_id: row.id } });
    // The retry looked for it (with the metadata) instead of posting again.
    const looks = fake.callsTo('conversations.history').filter((c) => c.args.channel === LATE);
    expect(looks.length).toBeGreaterThanOrEqual(1);
    expect(String(looks[0]!.args.include_all_metadata)).toBe('true');
    expect(looks[0]!.at).toBeGreaterThan(posts[0]!.at);
    // The first attempt (in the dispatcher) failed on the timeout; the queued retry adopted the card.
    // finishedOn is read with the job (one Lua script sets it and the attempt count): a job read
    // while still active and found completed a moment later would show no attempts.
    const retry = await fake.waitFor(async () => {
      const j = await engine().queues.find('post-cards', { actionId: id, tier: 0 });
      return j?.finishedOn && (await j.getState()) === 'completed' && j;
    }, 20_000, 'post-cards retry completed');
    // One run of the queued job, which adopted the card (a deferral would not count; a failure would).
    expect(retry.attemptsMade).toBe(1);

    // The adopted card is the live one: a click on it decides, and it is updated in place.
    await press(alice, cards[0]!, id);
    const final = await fake.waitFor(() => {
      const c = cardIn(LATE, id);
      return c && !hasButtons(c) && c;
    }, 10_000, 'final card');
    expect(text(final)).toContain('Approved by Alice (alice)');
    expect(fake.cardsIn(LATE).filter(forAction(id))).toHaveLength(1);
  });

  it('a #name or a person the workspace does not have is a failed card row and a counted error; the rest is asked', async () => {
    const channelErrors = (code: string) => metric(new RegExp(`^countersign_channel_errors_total\\{channel="slack",code="${code}",retryable="false"\\}`));
    const givenUp = () => metric(/^countersign_jobs_failed_total\{job="post-cards",final="true"\}/);
    const [channelsBefore, usersBefore, givenUpBefore] = [await channelErrors('channel_not_found'), await channelErrors('user_not_found'), await givenUp()];
    const id = await submit({ action: { type: 'slack.missing', resource: 'db/missing' } });
    await fake.waitFor(() => cardIn(EXISTS, id), 10_000, 'card in the channel that exists');
    const rows = () => t.prisma.channelCard.findMany({ where: { actionId: id }, orderBy: { target: 'asc' } });
    await fake.waitFor(async () => (await rows()).length === 3, 10_000, 'three card rows');
    const all = await rows();
    expect(all.map((r) => [r.target, r.state])).toEqual([
      ['#no-such-channel', 'failed'],
      [EXISTS, 'posted'],
      ['person/frank', 'failed'],
    ]);
    expect(all[0]!.error).toMatch(/^channel_not_found/);
    expect(all[2]!.error).toMatch(/^user_not_found/);
    expect(await channelErrors('channel_not_found')).toBe(channelsBefore + 1);
    expect(await channelErrors('user_not_found')).toBe(usersBefore + 1);
    // A channel the rule names that does not exist fails the job for good, like channel_not_found
    // from Slack (on its first attempt, which the dispatcher runs: nothing is retried).
    await fake.waitFor(async () => (await givenUp()) === givenUpBefore + 1, 10_000, 'post-cards failed for good');
  });
});
