import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCardModel, ChannelError, type ApprovalChannel } from '@countersign/core';
import { slackModule, type SlackCardRef } from '@countersign/slack';
import { FakeSlack, type FakeMessage } from './fakes/slack-api.ts';
import { click, formBody, postSigned, submitReason, type Clicker } from './fakes/slack-interactions.ts';
import { intents, startTestService, type TestService } from './support/service.ts';

// Slack interactivity end to end: real Bolt behind the real service (real Postgres), the fake
// Slack Web API behind it, clicks signed with the signing secret. Cards are posted through the
// Slack channel directly here; test/slack-full-path.test.ts lets the queue do it.

const SECRET = 'test-signing-secret-0123456789';
const TEAM = 'T0TEAM0001';
const CHANNEL = 'C0APPROVE1';

const alice: Clicker = { id: 'U0ALICE01', teamId: TEAM }; // sre-lead, mapped by Slack id
const bob: Clicker = { id: 'U0BOB0001', teamId: TEAM }; // security, mapped by Slack id
const carol: Clicker = { id: 'U0CAROL01', teamId: TEAM }; // sre-lead + security, by confirmed email
const erin: Clicker = { id: 'U0ERIN001', teamId: TEAM }; // owns deploy-bot, by confirmed email
const judy: Clicker = { id: 'U0JUDY001', teamId: TEAM }; // security, but Slack has not confirmed her email
const stranger: Clicker = { id: 'U0STRANGE', teamId: TEAM }; // nobody in the directory
const aliceElsewhere: Clicker = { id: 'U0ALICE01', teamId: 'T0OTHER01' }; // same id, other org
const guest: Clicker = { id: 'U0GUEST01', teamId: 'T0OTHER01' }; // a Slack Connect guest, home org elsewhere

let fake: FakeSlack;
let t: TestService;
let slack: ApprovalChannel;

beforeAll(async () => {
  fake = await FakeSlack.start({
    teamId: TEAM,
    channels: [{ id: CHANNEL, name: 'prod-approvals' }],
    users: [
      { id: alice.id, team_id: TEAM, email: 'alice@example.com', is_email_confirmed: true },
      { id: bob.id, team_id: TEAM, email: 'bob@example.com', is_email_confirmed: true },
      { id: carol.id, team_id: TEAM, email: 'Carol@Example.com', is_email_confirmed: true },
      { id: erin.id, team_id: TEAM, email: 'erin@example.com', is_email_confirmed: true },
      { id: judy.id, team_id: TEAM, email: 'judy@example.com', is_email_confirmed: false },
      { id: stranger.id, team_id: TEAM, email: 'someone@elsewhere.test', is_email_confirmed: true },
      // Slack Connect: the guest's confirmed email is a directory person's, but the account is another organisation's.
      { id: guest.id, team_id: 'T0OTHER01', email: 'bob@example.com', is_email_confirmed: true },
    ],
  });
  t = await startTestService({
    modules: [slackModule],
    env: { SLACK_BOT_TOKEN: fake.token, SLACK_SIGNING_SECRET: SECRET, SLACK_TEAM_ID: TEAM, SLACK_API_URL: fake.url },
  });
  slack = t.service.context.channels.get('slack')!;
});
afterAll(async () => {
  await t?.stop();
  await fake?.close();
});

async function escalate(intent: unknown, by = 'deploy-bot'): Promise<string> {
  const res = await t.api('POST', '/v1/actions', { token: t.tokens[by]!, body: intent });
  expect(res.body.status).toBe('pending');
  return res.body.id as string;
}

async function cardModel(id: string) {
  const store = t.service.context.store;
  const action = (await store.findAction(id))!;
  return buildCardModel(action, await store.votesFor(id), t.service.context.config.current().directory);
}

/** Escalates and posts the card to the approvals channel, as the queue's post job would. */
async function escalateWithCard(intent: unknown, by = 'deploy-bot'): Promise<{ id: string; ref: SlackCardRef }> {
  const id = await escalate(intent, by);
  const ref = (await slack.postCard(await cardModel(id), { target: CHANNEL })) as SlackCardRef;
  return { id, ref };
}

/** The action_id of a button as rendered on the posted card. */
function buttonOn(ref: SlackCardRef, label: 'Approve' | 'Deny'): string {
  const actions = message(ref).blocks.find((b) => b.type === 'actions') as { elements: { action_id: string; text: { text: string } }[] };
  return actions.elements.find((e) => e.text.text === label)!.action_id;
}

/** Clicks a button of the card as Slack would send it. */
function press(who: Clicker, decision: 'approve' | 'deny', card: { id: string; ref: SlackCardRef }, button?: string) {
  return click(t.url, SECRET, {
    user: who,
    decision,
    actionId: card.id,
    channel: card.ref.channel,
    messageTs: card.ref.ts,
    button: button ?? buttonOn(card.ref, decision === 'approve' ? 'Approve' : 'Deny'),
  });
}

const votes = (id: string) => t.service.context.store.votesFor(id);
const status = async (id: string) => (await t.service.context.store.findAction(id))!.status;
const ephemeralsTo = (who: Clicker) => fake.okCallsTo('chat.postEphemeral').filter((c) => c.args.user === who.id);
const message = (ref: SlackCardRef): FakeMessage => fake.messages.get(`${ref.channel}:${ref.ts}`)!;
const blockText = (m: FakeMessage) => JSON.stringify(m.blocks);

async function ephemeralFor(who: Clicker, count: number): Promise<string> {
  const calls = await fake.waitFor(() => ephemeralsTo(who).length >= count && ephemeralsTo(who), 15_000, `ephemeral #${count} to ${who.id}`);
  return String(calls[count - 1]!.args.text);
}

describe('Slack card', () => {
  it('posts a card with what, who, where, risk, rule, progress, expiry and Approve/Deny', async () => {
    const card = await escalateWithCard(intents.prodDelete);
    const m = message(card.ref);
    const text = blockText(m);
    expect(text).toContain('Delete prod-eu-1');
    expect(text).toContain('environment.delete');
    expect(text).toContain('Deploy bot (deploy-bot)');
    expect(text).toContain('Erin (erin)'); // the agent's owner
    expect(text).toContain('production');
    expect(text).toContain('destructive');
    expect(text).toContain('prod-delete');
    expect(text).toContain('0 of 2');
    expect(text).toMatch(/Expires <!date\^\d+/);
    const actions = m.blocks.find((b) => b.type === 'actions') as { elements: { action_id: string; value: string }[] };
    expect(actions.elements.map((e) => e.action_id)).toEqual([`countersign:approve:${card.id}`, `countersign:deny:${card.id}`]);
  });
});

describe('Slack clicks', () => {
  it('two approvals from the right roles approve the action', async () => {
    // Cards are updated by the queue (test/slack-full-path.test.ts); here: what is recorded.
    const card = await escalateWithCard(intents.prodDelete);
    expect((await press(alice, 'approve', card)).status).toBe(200);
    await fake.waitFor(async () => (await votes(card.id)).length === 1, 15_000);
    expect(await status(card.id)).toBe('pending');
    expect((await press(bob, 'approve', card)).status).toBe(200);
    await fake.waitFor(async () => (await status(card.id)) === 'approved', 15_000);
    expect((await votes(card.id)).map((v) => [v.personId, v.channel, v.decision])).toEqual([
      ['alice', 'slack', 'approve'],
      ['bob', 'slack', 'approve'],
    ]);
    // The evidence names the Slack accounts that clicked, not only the people they became.
    const sealed = (await t.service.context.db.actions.artifactsOf(card.id)).filter((a) => a.kind === 'vote.recorded').map((a) => JSON.parse(a.canonical).event);
    expect(sealed.map((e) => e.via)).toEqual([
      { channel: 'slack', account: { teamId: alice.teamId, userId: alice.id } },
      { channel: 'slack', account: { teamId: bob.teamId, userId: bob.id } },
    ]);
    expect(fake.callsTo('views.open').filter((c) => JSON.stringify(c.args).includes(card.id))).toEqual([]);
  });

  it("refuses the requester's own click with an ephemeral explanation and records nothing", async () => {
    const card = await escalateWithCard(intents.prodDelete, 'alice');
    const before = ephemeralsTo(alice).length;
    await press(alice, 'approve', card);
    const text = await ephemeralFor(alice, before + 1);
    expect(text).toContain('You requested this action; someone else must decide it.');
    expect(await votes(card.id)).toEqual([]);
    expect(await status(card.id)).toBe('pending');
  });

  it("refuses the agent owner's click (known to Slack by email) and records nothing", async () => {
    const card = await escalateWithCard(intents.prodDelete);
    const before = ephemeralsTo(erin).length;
    await press(erin, 'approve', card);
    expect(await ephemeralFor(erin, before + 1)).toMatch(/You own the agent/);
    expect(await votes(card.id)).toEqual([]);
  });

  it('one person holding both roles fills only one slot', async () => {
    const card = await escalateWithCard(intents.prodDelete);
    const before = ephemeralsTo(carol).length;
    await press(carol, 'approve', card);
    await fake.waitFor(async () => (await votes(card.id)).length === 1, 15_000);
    // carol is known to Slack by her confirmed email only: users.info told us who she is.
    expect((await votes(card.id))[0]).toMatchObject({ personId: 'carol', channel: 'slack', decision: 'approve' });
    expect(fake.callsTo('users.info').some((c) => c.args.user === carol.id)).toBe(true);
    await press(carol, 'approve', card);
    expect(await ephemeralFor(carol, before + 1)).toMatch(/already voted/);
    expect(await votes(card.id)).toHaveLength(1);
    expect(await status(card.id)).toBe('pending');
  });

  it('refuses a user of another workspace even with a Slack id the directory knows', async () => {
    const card = await escalateWithCard(intents.prodDelete);
    const before = ephemeralsTo(aliceElsewhere).length;
    const infoCalls = fake.callsTo('users.info').length;
    await press(aliceElsewhere, 'approve', card);
    expect(await ephemeralFor(aliceElsewhere, before + 1)).toMatch(/Only people of the organisation/);
    expect(await votes(card.id)).toEqual([]);
    // Refused on the signed payload's team id alone, before asking Slack anything.
    expect(fake.callsTo('users.info').length).toBe(infoCalls);
  });

  it('refuses a foreign user clicking in a channel shared into our workspace (team.id ours, user.team_id not)', async () => {
    const card = await escalateWithCard(intents.prodDelete);
    const infoCalls = fake.callsTo('users.info').length;
    for (const who of [aliceElsewhere, guest]) {
      const before = ephemeralsTo(who).length;
      // The click happens in OUR workspace: the payload's team is the allowed one; only the
      // user's own team_id tells that they belong to another organisation.
      const res = await click(t.url, SECRET, {
        user: who,
        teamId: TEAM,
        decision: 'approve',
        actionId: card.id,
        channel: card.ref.channel,
        messageTs: card.ref.ts,
        button: buttonOn(card.ref, 'Approve'),
      });
      expect(res.status).toBe(200);
      expect(await ephemeralFor(who, before + 1)).toMatch(/Only people of the organisation/);
    }
    expect(await votes(card.id)).toEqual([]);
    expect(await status(card.id)).toBe('pending');
    // Neither the directory's Slack id (alice) nor a confirmed matching email (bob's) was consulted.
    expect(fake.callsTo('users.info').length).toBe(infoCalls);
  });

  it('refuses an unknown Slack user and one whose email Slack has not confirmed', async () => {
    const card = await escalateWithCard(intents.prodDelete);
    for (const who of [stranger, judy]) {
      const before = ephemeralsTo(who).length;
      await press(who, 'approve', card);
      expect(await ephemeralFor(who, before + 1)).toMatch(/does not match exactly one person/);
    }
    expect(await votes(card.id)).toEqual([]);
  });

  it('Slack failing while identifying the clicker records nothing and says so', async () => {
    const card = await escalateWithCard(intents.prodDelete);
    fake.script('users.info', { status: 503, body: { ok: false }, match: (args) => args.user === carol.id });
    const before = ephemeralsTo(carol).length;
    await press(carol, 'approve', card);
    expect(await ephemeralFor(carol, before + 1)).toMatch(/nothing was recorded/);
    expect(await votes(card.id)).toEqual([]);
  });

  it('duplicate and simultaneous clicks record one vote', async () => {
    const card = await escalateWithCard(intents.prodDelete);
    const before = ephemeralsTo(alice).length;
    const answers = await Promise.all(Array.from({ length: 6 }, () => press(alice, 'approve', card)));
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 200, 200, 200]);
    await ephemeralFor(alice, before + 5);
    expect(await votes(card.id)).toHaveLength(1);
    expect(ephemeralsTo(alice).slice(before).every((c) => /already voted/.test(String(c.args.text)))).toBe(true);
  });

  it('a click after expiry is refused as expired and the action is expired', async () => {
    const card = await escalateWithCard({ action: { type: 'test.short', resource: 'x' } });
    t.clock.advance(61_000);
    try {
      const before = ephemeralsTo(alice).length;
      await press(alice, 'approve', card);
      expect(await ephemeralFor(alice, before + 1)).toMatch(/expired/);
      expect(await votes(card.id)).toEqual([]);
      expect(await status(card.id)).toBe('expired');
    } finally {
      t.clock.advance(-61_000);
    }
  });

  it('deny asks for a reason in a modal; the submitted reason refuses the action', async () => {
    const card = await escalateWithCard(intents.prodDelete);
    const opened = fake.okCallsTo('views.open').length;
    await press(bob, 'deny', card);
    const call = await fake.waitFor(() => fake.okCallsTo('views.open')[opened], 15_000, 'views.open');
    const view = call.args.view as { callback_id: string; private_metadata: string };
    expect(view.callback_id).toBe('countersign:reason');
    expect(await votes(card.id)).toEqual([]); // nothing until the reason arrives

    // An empty reason is answered inside the modal and records nothing.
    const empty = await submitReason(t.url, SECRET, { user: bob, privateMetadata: view.private_metadata, reason: '   ' });
    expect(empty.status).toBe(200);
    expect(JSON.parse(empty.text)).toEqual({ response_action: 'errors', errors: { reason: 'A reason is required.' } });
    expect(await votes(card.id)).toEqual([]);

    const done = await submitReason(t.url, SECRET, { user: bob, privateMetadata: view.private_metadata, reason: 'not during the freeze' });
    expect(done.status).toBe(200);
    await fake.waitFor(async () => (await status(card.id)) === 'refused', 15_000);
    expect((await votes(card.id))[0]).toMatchObject({ personId: 'bob', decision: 'deny', reason: 'not during the freeze' });
  });

  it('a deny by someone who may not decide is refused before the modal opens', async () => {
    const card = await escalateWithCard(intents.prodDelete, 'alice');
    const opened = fake.callsTo('views.open').length;
    const before = ephemeralsTo(alice).length;
    await press(alice, 'deny', card);
    expect(await ephemeralFor(alice, before + 1)).toMatch(/You requested this action/);
    expect(fake.callsTo('views.open').length).toBe(opened);
  });

  it("roles that change between the click and the submit: the engine's dry run opened the modal, its vote refuses", async () => {
    const card = await escalateWithCard(intents.prodDelete);
    const opened = fake.okCallsTo('views.open').length;
    await press(bob, 'deny', card);
    const call = await fake.waitFor(() => fake.okCallsTo('views.open')[opened], 15_000, 'views.open');
    const file = path.join(t.configDir, 'directory.yaml');
    const original = fs.readFileSync(file, 'utf8');
    const rolesOfBob = () => t.service.context.config.current().directory.person('bob')?.roles.join(',');
    try {
      // While the modal is open, an administrator takes bob's security role away.
      fs.writeFileSync(file, original.replace('roles: [security], slack: { userId: U0BOB0001 }', 'roles: [developer], slack: { userId: U0BOB0001 }'));
      await fake.waitFor(() => rolesOfBob() === 'developer', 15_000, 'directory reloaded');
      const before = ephemeralsTo(bob).length;
      await submitReason(t.url, SECRET, { user: bob, privateMetadata: (call.args.view as { private_metadata: string }).private_metadata, reason: 'not today' });
      expect(await ephemeralFor(bob, before + 1)).toMatch(/you hold none of these roles/);
      expect(await votes(card.id)).toEqual([]);
      expect(await status(card.id)).toBe('pending');
    } finally {
      fs.writeFileSync(file, original);
      await fake.waitFor(() => rolesOfBob() === 'security', 15_000, 'directory restored');
    }
  });

  it('an approval asks for a reason where the rule requires one', async () => {
    const card = await escalateWithCard({ action: { type: 'test.reason', resource: 'r' } });
    expect(buttonOn(card.ref, 'Approve')).toBe(`countersign:approve-with-reason:${card.id}`);
    const opened = fake.okCallsTo('views.open').length;
    await press(bob, 'approve', card);
    const call = await fake.waitFor(() => fake.okCallsTo('views.open')[opened], 15_000, 'views.open');
    expect(await votes(card.id)).toEqual([]);
    const view = call.args.view as { private_metadata: string };
    await submitReason(t.url, SECRET, { user: bob, privateMetadata: view.private_metadata, reason: 'checked with the team' });
    await fake.waitFor(async () => (await status(card.id)) === 'approved', 15_000);
    expect((await votes(card.id))[0]).toMatchObject({ personId: 'bob', reason: 'checked with the team' });
  });

  it('a button that skips a required reason is refused by the engine', async () => {
    const card = await escalateWithCard({ action: { type: 'test.reason', resource: 'r' } });
    const before = ephemeralsTo(bob).length;
    await press(bob, 'approve', card, `countersign:approve:${card.id}`);
    expect(await ephemeralFor(bob, before + 1)).toMatch(/requires a reason/);
    expect(await votes(card.id)).toEqual([]);
  });

  it('a modal submitted by someone else than who opened it is checked as that person', async () => {
    const card = await escalateWithCard(intents.prodDelete, 'alice');
    const opened = fake.okCallsTo('views.open').length;
    await press(bob, 'deny', card);
    const call = await fake.waitFor(() => fake.okCallsTo('views.open')[opened], 15_000, 'views.open');
    const before = ephemeralsTo(alice).length;
    await submitReason(t.url, SECRET, { user: alice, privateMetadata: (call.args.view as { private_metadata: string }).private_metadata, reason: 'mine' });
    expect(await ephemeralFor(alice, before + 1)).toMatch(/You requested this action/);
    expect(await votes(card.id)).toEqual([]);
  });
});

describe('Slack acknowledgement', () => {
  it('answers the click at once and does the slow work after the ack', async () => {
    const card = await escalateWithCard(intents.prodDelete);
    // Slack itself is slow to open the modal: the HTTP answer to the click must not wait for it.
    fake.script('views.open', { delayMs: 3500, body: { ok: true, view: { id: 'V0SLOW0001' } } });
    const started = Date.now();
    const res = await press(bob, 'deny', card);
    expect(res.status).toBe(200);
    expect(Date.now() - started).toBeLessThan(1000);
    await fake.waitFor(() => fake.calls.some((c) => c.method === 'views.open' && c.response.view && (c.response.view as { id: string }).id === 'V0SLOW0001'), 6000, 'slow views.open');
  });
});

describe('Slack request authenticity', () => {
  it('answers url_verification with the challenge', async () => {
    const body = JSON.stringify({ type: 'url_verification', token: 'x', challenge: 'chal-123' });
    const res = await postSigned(t.url, SECRET, body, { contentType: 'application/json' });
    expect(res.status).toBe(200);
    expect(JSON.parse(res.text)).toEqual({ challenge: 'chal-123' });
  });

  it('refuses a forged signature and a stale timestamp with 401 and records nothing', async () => {
    const card = await escalateWithCard(intents.prodDelete);
    const calls = fake.calls.length;
    const o = { user: alice, decision: 'approve' as const, actionId: card.id, channel: card.ref.channel, messageTs: card.ref.ts };
    const forged = await click(t.url, 'not-the-secret-000000', o);
    expect(forged.status).toBe(401);
    const tampered = await click(t.url, SECRET, o, { signature: 'v0=' + 'a'.repeat(64) });
    expect(tampered.status).toBe(401);
    const stale = await click(t.url, SECRET, o, { timestamp: Math.floor(Date.now() / 1000) - 6 * 60 });
    expect(stale.status).toBe(401);
    const future = await click(t.url, SECRET, o, { timestamp: Math.floor(Date.now() / 1000) + 6 * 60 });
    expect(future.status).toBe(401);
    const unsigned = await fetch(`${t.url}/slack/events`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: formBody({}) });
    expect(unsigned.status).toBe(401);
    await new Promise((r) => setTimeout(r, 200));
    expect(await votes(card.id)).toEqual([]);
    expect(fake.calls.length).toBe(calls); // not even an ephemeral
    // Still inside the window: accepted.
    const fresh = await click(t.url, SECRET, o, { timestamp: Math.floor(Date.now() / 1000) - 4 * 60 });
    expect(fresh.status).toBe(200);
    await fake.waitFor(async () => (await votes(card.id)).length === 1, 15_000);
  });
});

describe('Slack module', () => {
  it('refuses to start with a bot token of another workspace than SLACK_TEAM_ID', async () => {
    await expect(
      startTestService({
        modules: [slackModule],
        env: { SLACK_BOT_TOKEN: fake.token, SLACK_SIGNING_SECRET: SECRET, SLACK_TEAM_ID: 'T0SOMEONE1', SLACK_API_URL: fake.url },
      }),
    ).rejects.toThrow(/SLACK_BOT_TOKEN belongs to another workspace than SLACK_TEAM_ID/);
  });

  it('without Slack settings the module registers nothing', async () => {
    const off = await startTestService({ modules: [slackModule] });
    try {
      expect(off.service.context.channels.has('slack')).toBe(false);
      const res = await postSigned(off.url, SECRET, formBody({}));
      expect(res.status).toBe(404);
    } finally {
      await off.stop();
    }
  });
});

describe('Slack channel errors', () => {
  it('a 429 is a retryable failure carrying Retry-After; the retry posts the card once', async () => {
    const id = await escalate(intents.prodDelete);
    const model = await cardModel(id);
    fake.rateLimitNext('chat.postMessage', 1);
    const before = fake.cardsIn(CHANNEL).length;
    const err = await slack.postCard(model, { target: CHANNEL }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ChannelError);
    expect(err).toMatchObject({ retryable: true, code: 'rate_limited', retryAfterMs: 1000 });
    // The WebClient did not retry by itself: one call, no card.
    expect(fake.callsTo('chat.postMessage').at(-1)!.status).toBe(429);
    expect(fake.cardsIn(CHANNEL).length).toBe(before);
    await slack.postCard(model, { target: CHANNEL });
    expect(fake.cardsIn(CHANNEL).length).toBe(before + 1);
  });

  it('invalid_blocks, channel_not_found, not_in_channel, is_archived and invalid_auth are permanent', async () => {
    const model = await cardModel(await escalate(intents.prodDelete));
    for (const code of ['invalid_blocks', 'channel_not_found', 'not_in_channel', 'is_archived', 'account_inactive', 'invalid_auth']) {
      fake.failNext('chat.postMessage', code);
      await expect(slack.postCard(model, { target: CHANNEL })).rejects.toMatchObject({ retryable: false, code });
    }
  });

  it('5xx and network failures are retryable', async () => {
    const model = await cardModel(await escalate(intents.prodDelete));
    fake.script('chat.postMessage', { status: 503, body: { ok: false } });
    await expect(slack.postCard(model, { target: CHANNEL })).rejects.toMatchObject({ retryable: true, code: 'http_503' });
    fake.failNext('chat.postMessage', 'internal_error');
    await expect(slack.postCard(model, { target: CHANNEL })).rejects.toMatchObject({ retryable: true, code: 'internal_error' });
  });

  it('resolves #names through conversations.list, ids as they are, and people to DMs', async () => {
    const targets = await slack.resolveTargets({ channels: ['#prod-approvals', 'C0OTHER01', '#no-such-channel'], people: ['bob', 'carol', 'frank'] });
    expect(targets).toEqual([
      { target: CHANNEL },
      { target: 'C0OTHER01' },
      // Not asked, but returned with the problem: the queue records and counts it.
      { target: '#no-such-channel', problem: { code: 'channel_not_found', message: expect.stringContaining('#no-such-channel') } },
      { target: bob.id, personId: 'bob' }, // Slack id from the directory
      { target: carol.id, personId: 'carol' }, // users.lookupByEmail
      { target: 'person/frank', personId: 'frank', problem: { code: 'user_not_found', message: expect.stringContaining('frank') } }, // no Slack account
    ]);
    const model = await cardModel(await escalate(intents.prodDelete));
    const ref = (await slack.postCard(model, { target: bob.id, personId: 'bob' })) as SlackCardRef;
    expect(ref.channel).toBe(fake.dmOf(bob.id));
    expect(fake.okCallsTo('conversations.open').some((c) => c.args.users === bob.id)).toBe(true);
  });

  it('notifies a person by DM and reminds in the card thread', async () => {
    const card = await escalateWithCard(intents.prodDelete);
    const model = await cardModel(card.id);
    await slack.remind(model, card.ref, 'Still waiting for approval');
    expect(fake.threadReplies(card.ref.channel, card.ref.ts).map((m) => m.text)).toEqual([expect.stringContaining('Still waiting for approval')]);
    expect(await slack.notifyPerson('erin', { actionId: card.id, text: 'Your request was decided', card: model })).toBe(true);
    expect(fake.cardsIn(fake.dmOf(erin.id)).at(-1)!.text).toContain('Your request was decided');
    expect(await slack.notifyPerson('frank', { actionId: card.id, text: 'x', card: model })).toBe(false);
  });
});
