import fs from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { verifyReleaseToken } from '@countersign/evidence';
import { slackModule } from '@countersign/slack';
import { teamsModule } from '@countersign/teams';
import { workerEngine, workerModule } from '@countersign/worker';
import { validateAdaptiveCard } from '../modules/teams/test/validate-card.ts';
import { FakeBotFramework, teamsDirectoryYaml, teamsUsers, type FakeTeam, type RecordedActivity, type TeamsUser } from './fakes/bot-connector.ts';
import { FakeSlack, type FakeMessage } from './fakes/slack-api.ts';
import { click as slackClick, type Clicker } from './fakes/slack-interactions.ts';
import { randomQueuePrefix } from './support/database.ts';
import { outboxDispatched } from './support/outbox.ts';
import { startTestService, type TestService } from './support/service.ts';

// The whole path through Teams with the queue engine doing the posting: POST /v1/actions →
// the queue posts Adaptive Cards into the Teams channel and personal chat the rule names →
// invokes with valid Bot Framework JWTs → every Teams card updated (updateActivity) → the
// agent's long-poll returns approved. Then reminders, tiers and expiry as Teams shows them,
// throttling, and one action approved by one person in Slack and another in Teams.

const PLATFORM: FakeTeam = {
  id: '19:general-platform@thread.tacv2',
  name: 'Platform',
  channels: [
    { id: '19:general-platform@thread.tacv2' },
    { id: '19:approvals@thread.tacv2', name: 'Approvals' },
    { id: '19:secondary@thread.tacv2', name: 'Secondary' },
  ],
};
const APPROVALS = '19:approvals@thread.tacv2';
const SECONDARY = '19:secondary@thread.tacv2';
const SLACK_SECRET = 'teams-mixed-signing-secret-01234';
const SLACK_TEAM = 'T0TEAM0001';
const SLACK_APPROVALS = 'C0APPROVE1';
const slackAlice: Clicker = { id: 'U0ALICE01', teamId: SLACK_TEAM };
const { alice, bob, judy } = teamsUsers;

const RULES = `
  - id: teams-full-path
    when: 'action.type == "teams.full"'
    outcome: escalate
    reason: production change needs an SRE lead and security
    requirement:
      approvers: [{ role: sre-lead, count: 1 }, { role: security, count: 1 }]
      expiresIn: 30m
      channels:
        teams: ['19:general-platform@thread.tacv2/19:approvals@thread.tacv2']
        people: [bob]
        reminders: [5m]
        tiers:
          - { after: 10m, teams: ['19:secondary@thread.tacv2'], people: [judy] }

  - id: teams-one-channel
    when: 'action.type == "teams.one"'
    outcome: escalate
    reason: one channel
    requirement:
      approvers: [{ role: sre-lead, count: 1 }]
      expiresIn: 30m
      channels:
        teams: ['19:general-platform@thread.tacv2/19:approvals@thread.tacv2']

  - id: slack-and-teams
    when: 'action.type == "mixed.both"'
    outcome: escalate
    reason: asked in Slack and in Teams
    requirement:
      approvers: [{ role: sre-lead, count: 1 }, { role: security, count: 1 }]
      expiresIn: 30m
      channels:
        slack: ['#prod-approvals']
        teams: ['19:approvals@thread.tacv2']
`;

const fullIntent = {
  action: { type: 'teams.full', resource: 'env/prod-eu-1', summary: 'Delete prod-eu-1', params: { region: 'eu-1' } },
  context: { environment: 'production' },
  risk: { class: 'destructive', urgency: 'high' },
  justification: 'region decommissioned',
};

let fake: FakeBotFramework;
let slack: FakeSlack;
let t: TestService;

beforeAll(async () => {
  fake = await FakeBotFramework.start();
  for (const u of Object.values(teamsUsers)) fake.users.set(u.id, u);
  slack = await FakeSlack.start({
    teamId: SLACK_TEAM,
    channels: [{ id: SLACK_APPROVALS, name: 'prod-approvals' }],
    users: [{ id: slackAlice.id, team_id: SLACK_TEAM, email: 'alice@example.com', is_email_confirmed: true }],
  });
  const fixture = fs.readFileSync(path.resolve(import.meta.dirname, 'fixtures', 'policy.yaml'), 'utf8');
  t = await startTestService({
    policy: `${fixture.trimEnd()}\n${RULES}`,
    directory: await teamsDirectoryYaml(),
    modules: [slackModule, teamsModule, workerModule],
    env: {
      ...fake.env(),
      SLACK_BOT_TOKEN: slack.token,
      SLACK_SIGNING_SECRET: SLACK_SECRET,
      SLACK_TEAM_ID: SLACK_TEAM,
      SLACK_API_URL: slack.url,
      COUNTERSIGN_QUEUE_PREFIX: randomQueuePrefix(),
      COUNTERSIGN_OUTBOX_POLL_MS: '250',
      // Sweeps are run by hand after moving the clock.
      COUNTERSIGN_SWEEP_SECONDS: '3600',
      COUNTERSIGN_CHANNEL_PACING_MS: 'slack=0,teams=0',
    },
  });
  expect((await fake.send(t.url, fake.installInTeam(PLATFORM, alice))).status).toBe(200);
  for (const u of [bob, judy]) expect((await fake.send(t.url, fake.installPersonal(u))).status).toBe(200);
});
afterAll(async () => {
  await t?.stop();
  await fake?.close();
  await slack?.close();
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

type CardJson = { body: unknown[]; actions?: unknown[] };
const contentOf = (activity: Record<string, unknown> | undefined): CardJson | undefined =>
  (activity?.attachments as { content: CardJson }[] | undefined)?.[0]?.content;
const text = (x: unknown) => JSON.stringify(x);
/** The card for action `id` first posted into `conversationId` (not replies). */
const postedCard = (conversationId: string, id: string): RecordedActivity | undefined =>
  fake.posts.find((p) => p.conversationId === conversationId && p.replyToId === null && text(contentOf(p.activity)).includes(id));
const cardsFor = (conversationId: string, id: string) => fake.posts.filter((p) => p.conversationId === conversationId && p.replyToId === null && text(contentOf(p.activity)).includes(id));
/** The card as Teams shows it now (after updates). */
const shown = (card: RecordedActivity) => contentOf(fake.current(card.id))!;

async function waitFor<T>(check: () => T | undefined | null | false | Promise<T | undefined | null | false>, what: string, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function submit(intent: unknown): Promise<string> {
  const res = await t.api('POST', '/v1/actions', { token: t.tokens['deploy-bot']!, body: intent });
  expect(res.status, res.text).toBe(201);
  expect(res.body.status).toBe('pending');
  return res.body.id as string;
}

async function press(user: TeamsUser, card: RecordedActivity, id: string, kind: 'channel' | 'personal') {
  const res = await fake.send(t.url, fake.invoke(user, { conversationId: card.conversationId, activityId: card.id, kind }, 'approve', { actionId: id }));
  expect(res.status).toBe(200);
  expect(text(res.body.value)).toContain('Your approval is recorded');
  return res.body.value as CardJson;
}

describe('Teams through the queue', () => {
  it('request → cards → approvals by invoke → every card updated → agent released', async () => {
    const id = await submit(fullIntent);
    const waiting = t.api('GET', `/v1/actions/${id}?wait=25`, { token: t.tokens['deploy-bot'] });

    const channelCard = await waitFor(() => postedCard(APPROVALS, id), 'card in Platform/Approvals');
    const bobsCard = await waitFor(() => postedCard(fake.personalChatId(bob), id), "card in bob's personal chat");
    for (const card of [channelCard, bobsCard]) {
      expect(validateAdaptiveCard(contentOf(card.activity)! as never)).toEqual([]);
      expect(text(shown(card))).toContain('Approvals: 0 of 2');
    }

    await press(alice, channelCard, id, 'channel');
    // Every card shows the progress, not only the clicked one.
    await waitFor(() => text(shown(bobsCard)).includes('Approvals: 1 of 2'), "progress on bob's card");

    await press(bob, bobsCard, id, 'personal');
    const released = await waiting;
    expect(released.body).toMatchObject({ id, status: 'approved' });
    const jwks = (await t.api('GET', '/.well-known/jwks.json')).body;
    const claims = await verifyReleaseToken(released.body.releaseToken, { keys: jwks, audience: 'countersign-release', issuer: 'countersign', intentHash: released.body.intentHash });
    expect(claims.sub).toBe(id);

    for (const card of [channelCard, bobsCard]) {
      const final = await waitFor(() => {
        const c = shown(card);
        return text(c).includes('Approved by Bob (bob)') && c;
      }, `final card in ${card.conversationId}`);
      expect(final.actions).toBeUndefined();
      expect(validateAdaptiveCard(final as never)).toEqual([]);
    }
    // One card per target, updated in place (PUT), never re-posted.
    expect(cardsFor(APPROVALS, id)).toHaveLength(1);
    expect(cardsFor(fake.personalChatId(bob), id)).toHaveLength(1);
    expect(fake.updates.filter((u) => u.activityId === channelCard.id).length).toBeGreaterThanOrEqual(2);
  });

  it('reminds in the card thread, asks the next tier, and shows the expiry', async () => {
    const id = await submit(fullIntent);
    const channelCard = await waitFor(() => postedCard(APPROVALS, id), 'card');
    await waitFor(() => postedCard(fake.personalChatId(bob), id), "bob's card");
    await outboxDispatched(t.prisma, id);

    advance(5 * 60_000 + 1_000);
    await engine().sweeper.sweep();
    const reminder = await waitFor(() => fake.posts.find((p) => p.replyToId === channelCard.id), 'reminder in the thread');
    expect(reminder.conversationId).toBe(`${APPROVALS};messageid=${channelCard.id}`);
    expect(String(reminder.activity.text)).toMatch(/Reminder/);
    expect(postedCard(SECONDARY, id)).toBeUndefined();

    advance(5 * 60_000);
    await engine().sweeper.sweep();
    const tierCard = await waitFor(() => postedCard(SECONDARY, id), 'tier-1 card in Platform/Secondary');
    await waitFor(() => postedCard(fake.personalChatId(judy), id), "tier-1 card in judy's chat");
    expect(shown(tierCard).actions).toHaveLength(2);

    advance(20 * 60_000);
    await engine().sweeper.sweep();
    await waitFor(async () => (await status(id)) === 'expired', 'expired');
    for (const card of [channelCard, tierCard]) {
      const final = await waitFor(() => {
        const c = shown(card);
        return text(c).includes('Expired: not approved in time') && c;
      }, `expired card in ${card.conversationId}`);
      expect(final.actions).toBeUndefined();
    }
  });

  it('shows caller text in a reminder as written, never as a link', async () => {
    const lure = '[Approve here](https://evil.example) or <a href="https://evil.example">here</a>';
    const id = await submit({ ...fullIntent, action: { ...fullIntent.action, summary: lure } });
    const channelCard = await waitFor(() => postedCard(APPROVALS, id), 'card');
    await outboxDispatched(t.prisma, id);
    advance(5 * 60_000 + 1_000);
    await engine().sweeper.sweep();
    const reminder = await waitFor(() => fake.posts.find((p) => p.replyToId === channelCard.id), 'reminder in the thread');
    const sent = String(reminder.activity.text);
    expect(sent).toMatch(/^Reminder/);
    expect(sent).not.toMatch(/\]\(|<a/);
    expect(sent.replaceAll('\u200B', '')).toContain(lure);
  });

  it('Teams answering 429 then 200: the card is posted once, after Retry-After', async () => {
    const isPostToApprovals = (m: string, p: string) => m === 'POST' && p.endsWith(`/conversations/${encodeURIComponent(APPROVALS)}/activities`);
    fake.failNext(1, 429, { headers: { 'retry-after': '1' }, match: isPostToApprovals });
    const throttledBefore = fake.calls.filter((c) => c.status === 429).length;
    const id = await submit({ action: { type: 'teams.one', resource: 'db/main' } });
    const card = await waitFor(() => postedCard(APPROVALS, id), 'card after the 429', 15_000);
    expect(fake.calls.filter((c) => c.status === 429).length).toBe(throttledBefore + 1);
    expect(cardsFor(APPROVALS, id)).toHaveLength(1);
    expect(shown(card).actions).toHaveLength(2);
    // The queue records the card as posted right after Teams answers.
    const rows = await waitFor(async () => {
      const r = await t.prisma.channelCard.findMany({ where: { actionId: id } });
      return r.every((c) => c.state === 'posted') && r;
    }, 'card row marked posted');
    expect(rows.map((r) => [r.channel, r.state, (r.messageRef as { activityId?: string }).activityId])).toEqual([['teams', 'posted', card.id]]);
  });

  // 412 is Teams' other throttling answer; 502 and 504 may or may not have been processed
  // (ambiguous). The fake processed none of them, so exactly one card must come out.
  it.each([412, 502, 504])('Teams answering %i then 200: the card is posted once, after a retry', async (code) => {
    const isPostToApprovals = (m: string, p: string) => m === 'POST' && p.endsWith(`/conversations/${encodeURIComponent(APPROVALS)}/activities`);
    const failedBefore = fake.calls.filter((c) => c.status === code).length;
    fake.failNext(1, code, { match: isPostToApprovals });
    const id = await submit({ action: { type: 'teams.one', resource: `db/${code}` } });
    const card = await waitFor(() => postedCard(APPROVALS, id), `card after the ${code}`, 15_000);
    expect(fake.calls.filter((c) => c.status === code).length).toBe(failedBefore + 1);
    const rows = await waitFor(async () => {
      const r = await t.prisma.channelCard.findMany({ where: { actionId: id } });
      return r.length > 0 && r.every((c) => c.state === 'posted') && r;
    }, 'card row marked posted');
    expect(rows.map((r) => [r.channel, r.state, (r.messageRef as { activityId?: string }).activityId])).toEqual([['teams', 'posted', card.id]]);
    // Give a stray second attempt the time to show up before counting.
    await new Promise((r) => setTimeout(r, 300));
    expect(cardsFor(APPROVALS, id)).toHaveLength(1);
    expect(shown(card).actions).toHaveLength(2);
  });

  // A 200 whose body is no activity (a proxy's page: the SDK reads it as no id) leaves open
  // whether Teams took the card; in doubt the queue posts again rather than give the card up.
  it('Teams answering 200 without an activity id, then 200: the card is posted by a retry, not given up', async () => {
    const isPostToApprovals = (m: string, p: string) => m === 'POST' && p.endsWith(`/conversations/${encodeURIComponent(APPROVALS)}/activities`);
    fake.failNext(1, 200, { body: 'Gateway says hi', match: isPostToApprovals });
    const id = await submit({ action: { type: 'teams.one', resource: 'db/garbled' } });
    const card = await waitFor(() => postedCard(APPROVALS, id), 'card after the answer without an id', 15_000);
    const rows = await waitFor(async () => {
      const r = await t.prisma.channelCard.findMany({ where: { actionId: id } });
      return r.length > 0 && r.every((c) => c.state === 'posted') && r;
    }, 'card row marked posted');
    expect(rows.map((r) => [r.channel, r.state, (r.messageRef as { activityId?: string }).activityId])).toEqual([['teams', 'posted', card.id]]);
    expect(shown(card).actions).toHaveLength(2);
  });
});

describe('Slack and Teams together', () => {
  const slackCard = (id: string) => slack.cardsIn(SLACK_APPROVALS).find((m: FakeMessage) => JSON.stringify(m.history[0]!.blocks).includes(id));

  it('one action approved by one person in Slack and another in Teams; both channels show the outcome', async () => {
    const id = await submit({ action: { type: 'mixed.both', resource: 'env/prod-eu-2', summary: 'Delete prod-eu-2' } });
    const waiting = t.api('GET', `/v1/actions/${id}?wait=25`, { token: t.tokens['deploy-bot'] });
    const inSlack = await waitFor(() => slackCard(id), 'card in Slack');
    const inTeams = await waitFor(() => postedCard(APPROVALS, id), 'card in Teams');

    // Alice (sre-lead) approves in Slack.
    const res = await slackClick(t.url, SLACK_SECRET, { user: slackAlice, decision: 'approve', actionId: id, channel: inSlack.channel, messageTs: inSlack.ts });
    expect(res.status).toBe(200);
    await waitFor(() => text(shown(inTeams)).includes('Approvals: 1 of 2'), 'Teams card shows the Slack vote');
    expect(text(shown(inTeams))).toMatch(/approved by Alice \(alice\) via slack/);

    // Bob (security) approves in Teams.
    await press(bob, inTeams, id, 'channel');
    expect((await waiting).body).toMatchObject({ id, status: 'approved' });
    const votes = await t.service.context.store.votesFor(id);
    expect(votes.map((v) => [v.personId, v.channel])).toEqual([
      ['alice', 'slack'],
      ['bob', 'teams'],
    ]);
    await waitFor(() => text(shown(inTeams)).includes('Approved by Bob (bob)'), 'final Teams card');
    await waitFor(() => {
      const m = slackCard(id);
      return m && JSON.stringify(m.blocks).includes('Approved by Bob (bob)');
    }, 'final Slack card');
  });
});
