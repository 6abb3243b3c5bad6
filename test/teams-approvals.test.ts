import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCardModel, ChannelError, type ApprovalChannel } from '@countersign/core';
import { teamsModule, type TeamsCardRef } from '@countersign/teams';
import { validateAdaptiveCard } from '../modules/teams/test/validate-card.ts';
import { FakeBotFramework, TEAMS_MESSAGE_LIMIT_BYTES, teamsDirectoryYaml, teamsUsers, type FakeTeam, type TeamsUser } from './fakes/bot-connector.ts';
import { intents, startTestService, type TestService } from './support/service.ts';

// Teams end to end: the real service (real Postgres) with the Teams module, botbuilder's
// CloudAdapter behind POST /api/messages validating real Bot Framework JWTs from the local
// fake issuer, and the fake Bot Connector as serviceUrl (outbound calls carry an app token
// from the fake Entra login). Cards are posted through the Teams channel directly here, as
// the queue's post job would; test/teams-queue.test.ts lets the queue do it.

const PLATFORM: FakeTeam = {
  id: '19:general-platform@thread.tacv2',
  name: 'Platform',
  channels: [{ id: '19:general-platform@thread.tacv2' }, { id: '19:approvals@thread.tacv2', name: 'Approvals' }],
};
const APPROVALS = '19:approvals@thread.tacv2';
const GROUP_CHAT = '19:oncall-chat@thread.v2';
const { alice, bob, carol, erin, grace, judy, notIvan, stranger } = teamsUsers;

let fake: FakeBotFramework;
let t: TestService;
let teams: ApprovalChannel;

beforeAll(async () => {
  fake = await FakeBotFramework.start();
  for (const u of Object.values(teamsUsers)) fake.users.set(u.id, u);
  t = await startTestService({ modules: [teamsModule], env: fake.env(), directory: await teamsDirectoryYaml() });
  teams = t.service.context.channels.get('teams')!;
  expect((await fake.send(t.url, fake.installInTeam(PLATFORM, alice))).status).toBe(200);
  for (const u of [alice, bob, carol, erin, judy]) expect((await fake.send(t.url, fake.installPersonal(u))).status).toBe(200);
  expect((await fake.send(t.url, fake.installGroupChat(GROUP_CHAT, alice))).status).toBe(200);
});
afterAll(async () => {
  await t?.stop();
  await fake?.close();
});

const store = () => t.service.context.store;
const votes = (id: string) => store().votesFor(id);
const status = async (id: string) => (await store().findAction(id))!.status;

async function escalate(intent: unknown, by = 'deploy-bot'): Promise<string> {
  const res = await t.api('POST', '/v1/actions', { token: t.tokens[by]!, body: intent });
  expect(res.body.status).toBe('pending');
  return res.body.id as string;
}

async function model(id: string) {
  const action = (await store().findAction(id))!;
  return buildCardModel(action, await votes(id), t.service.context.config.current().directory);
}

interface Card {
  id: string;
  ref: TeamsCardRef;
  kind: 'channel' | 'personal' | 'groupChat';
}

async function post(id: string, conversationId: string, kind: Card['kind'] = 'channel'): Promise<Card> {
  const ref = (await teams.postCard(await model(id), { target: conversationId })) as unknown as TeamsCardRef;
  return { id, ref, kind };
}

function click(user: TeamsUser, card: Card, verb: string, data: Record<string, unknown> = {}, opts: { tenantId?: string; conversationTenantId?: string } = {}) {
  return fake.send(t.url, fake.invoke(user, { conversationId: card.ref.conversationId, activityId: card.ref.activityId, kind: card.kind }, verb, { actionId: card.id, ...data }, opts));
}

type CardJson = { body: Record<string, unknown>[]; actions?: unknown[]; refresh?: unknown };
const text = (card: unknown) => JSON.stringify(card);
/** The per-user notice at the top of a card answered to a click. */
const notice = (card: CardJson) => text(card.body[0]);
const personalChat = (u: TeamsUser) => fake.personalChatId(u);

function expectValidCard(card: unknown): void {
  expect(validateAdaptiveCard(card as Record<string, unknown>)).toEqual([]);
}

/** The card answered to a click (status 200, an Adaptive Card only that user sees). */
function answeredCard(res: { status: number; body: any }): CardJson {
  expect(res.status).toBe(200);
  expect(res.body.statusCode).toBe(200);
  expect(res.body.type).toBe('application/vnd.microsoft.card.adaptive');
  expectValidCard(res.body.value);
  return res.body.value as CardJson;
}

describe('conversations', () => {
  it('captures the team and all its channels, personal chats and group chats on installation', async () => {
    const rows = await t.prisma.teamsConversation.findMany({ orderBy: { id: 'asc' } });
    const byId = new Map(rows.map((r) => [r.id, r]));
    expect(byId.get(PLATFORM.id)).toMatchObject({ kind: 'channel', teamId: PLATFORM.id, teamName: 'Platform', channelName: 'General', tenantId: fake.tenantId });
    expect(byId.get(APPROVALS)).toMatchObject({ kind: 'channel', teamId: PLATFORM.id, teamName: 'Platform', channelName: 'Approvals' });
    expect(byId.get(personalChat(bob))).toMatchObject({ kind: 'personal', aadObjectId: bob.aadObjectId });
    expect(byId.get(GROUP_CHAT)).toMatchObject({ kind: 'groupChat', teamId: null });
    expect((byId.get(APPROVALS)!.reference as { serviceUrl: string }).serviceUrl).toBe(fake.serviceUrl);
  });

  it('ignores installations from another tenant', async () => {
    const other = '00000000-0000-4000-8000-000000000001';
    const foreignTeam: FakeTeam = { id: '19:foreign@thread.tacv2', name: 'Foreign', channels: [{ id: '19:foreign@thread.tacv2' }] };
    expect((await fake.send(t.url, fake.installInTeam(foreignTeam, stranger, other))).status).toBe(200);
    expect((await fake.send(t.url, fake.installPersonal(stranger, other))).status).toBe(200);
    const prisma = t.prisma;
    expect(await prisma.teamsConversation.count({ where: { id: { in: [foreignTeam.id, personalChat(stranger)] } } })).toBe(0);
    expect(await prisma.teamsConversation.count({ where: { tenantId: { not: fake.tenantId } } })).toBe(0);
  });

  it('forgets a team when the bot is removed from it', async () => {
    const doomed: FakeTeam = { id: '19:doomed@thread.tacv2', name: 'Doomed', channels: [{ id: '19:doomed@thread.tacv2' }, { id: '19:doomed-b@thread.tacv2', name: 'B' }] };
    await fake.send(t.url, fake.installInTeam(doomed, alice));
    const prisma = t.prisma;
    expect(await prisma.teamsConversation.count({ where: { teamId: doomed.id } })).toBe(2);
    expect((await fake.send(t.url, fake.removeFromTeam(doomed, alice))).status).toBe(200);
    expect(await prisma.teamsConversation.count({ where: { teamId: doomed.id } })).toBe(0);
    // Not asked any more; named by a rule, it is now a visible problem (a failed card row).
    expect(await teams.resolveTargets({ channels: ['19:doomed-b@thread.tacv2'], people: [] })).toEqual([
      { target: '19:doomed-b@thread.tacv2', problem: { code: 'teams_not_installed', message: expect.stringContaining('19:doomed-b@thread.tacv2') } },
    ]);
  });

  it("maps a rule's hints to stored conversations: team id/channel id, team id, conversation id, people", async () => {
    const targets = await teams.resolveTargets({
      channels: [`${PLATFORM.id}/${APPROVALS}`, PLATFORM.id, APPROVALS, GROUP_CHAT, `${PLATFORM.id}/19:nowhere@thread.tacv2`, 'Platform/Approvals'],
      people: ['bob', 'dave', 'carol', 'nobody'],
    });
    expect(targets.filter((x) => !x.problem)).toEqual([{ target: APPROVALS }, { target: PLATFORM.id }, { target: GROUP_CHAT }, { target: personalChat(bob), personId: 'bob' }]);
    // What cannot be reached is returned as problems, so the queue records and counts it; people
    // without a Teams identity (dave, carol) are simply asked elsewhere. A display name (stored
    // in a requirement before places were ids only) is never matched.
    expect(targets.filter((x) => x.problem).map((x) => [x.target, x.personId, x.problem!.code])).toEqual([
      [`${PLATFORM.id}/19:nowhere@thread.tacv2`, undefined, 'teams_not_installed'],
      ['Platform/Approvals', undefined, 'teams_not_an_id'],
      ['person/nobody', 'nobody', 'teams_unknown_person'],
    ]);
  });
});

describe('approvals', () => {
  it('posts the card, takes approvals from two people by invoke, updates every card and releases the agent', async () => {
    const id = await escalate(intents.prodDelete);
    const agent = t.api('GET', `/v1/actions/${id}?wait=30`, { token: t.tokens['deploy-bot']! });

    const channelCard = await post(id, APPROVALS);
    const bobCard = await post(id, personalChat(bob), 'personal');
    const posted = fake.posts.filter((p) => p.id === channelCard.ref.activityId || p.id === bobCard.ref.activityId);
    expect(posted.map((p) => [p.conversationId, p.replyToId])).toEqual([
      [APPROVALS, null],
      [personalChat(bob), null],
    ]);
    expect(channelCard.ref).toEqual({ conversationId: APPROVALS, activityId: posted[0]!.id, serviceUrl: fake.serviceUrl });
    for (const p of posted) {
      const attachment = (p.activity.attachments as { contentType: string; content: CardJson }[])[0]!;
      expect(attachment.contentType).toBe('application/vnd.microsoft.card.adaptive');
      expectValidCard(attachment.content);
      expect(text(attachment.content)).toContain('Delete prod-eu-1');
      expect(text(attachment.content)).toContain('"verb":"approve"');
    }

    // Alice (sre-lead, pinned Teams id) approves in the channel.
    const first = answeredCard(await click(alice, channelCard, 'approve'));
    expect(notice(first)).toContain('Your approval is recorded');
    expect(first.actions).toBeUndefined();
    expect(text(first)).toContain('Approvals: 1 of 2');
    expect((await votes(id)).map((v) => [v.personId, v.channel])).toEqual([['alice', 'teams']]);
    // The evidence names the Teams account that clicked: tenant and AAD object id.
    const sealed = (await t.service.context.db.actions.artifactsOf(id)).filter((a) => a.kind === 'vote.recorded').map((a) => JSON.parse(a.canonical).event);
    expect(sealed.map((e) => e.via)).toEqual([{ channel: 'teams', account: { tenantId: expect.any(String), aadObjectId: alice.aadObjectId.toLowerCase() } }]);

    // The queue's update job shows progress on every card.
    for (const card of [channelCard, bobCard]) await teams.updateCard(await model(id), card.ref as never);

    // Bob (security) approves in his personal chat: the action is decided.
    const second = answeredCard(await click(bob, bobCard, 'approve'));
    expect(text(second)).toContain('Approved by Bob (bob)');
    expect(second.actions).toBeUndefined();
    expect(second.refresh).toBeUndefined();
    expect(await status(id)).toBe('approved');

    for (const card of [channelCard, bobCard]) await teams.updateCard(await model(id), card.ref as never);
    for (const card of [channelCard, bobCard]) {
      const latest = fake.current(card.ref.activityId)!;
      const content = (latest.attachments as { content: CardJson }[])[0]!.content;
      expectValidCard(content);
      expect(text(content)).toContain('Approved by Bob (bob)');
      expect(text(content)).toMatch(/approved by Alice \(alice\) via teams/);
      expect(content.actions).toBeUndefined();
    }
    expect(fake.updates.filter((u) => u.activityId === channelCard.ref.activityId)).toHaveLength(2);

    const released = await agent;
    expect(released.body.status).toBe('approved');
    expect(typeof released.body.releaseToken).toBe('string');
  });

  it('refuses self-approval with a message for that user only and records nothing', async () => {
    const id = await escalate(intents.prodDelete);
    const card = await post(id, APPROVALS);
    const before = { posts: fake.posts.length, updates: fake.updates.length };
    // Erin owns deploy-bot; she is found through the roster's UPN.
    const answer = answeredCard(await click(erin, card, 'approve'));
    expect(notice(answer)).toContain('You own the agent that requested this action');
    expect(answer.actions).toBeDefined();
    expect(await votes(id)).toEqual([]);
    expect(await status(id)).toBe('pending');
    expect({ posts: fake.posts.length, updates: fake.updates.length }).toEqual(before);
  });

  it('refuses a known person without a required role, for that user only, and records nothing', async () => {
    const id = await escalate(intents.prodDelete);
    const card = await post(id, APPROVALS);
    const before = { posts: fake.posts.length, updates: fake.updates.length };
    // Grace (auditor) is found through the roster's email; the rule needs sre-lead and security.
    const answer = answeredCard(await click(grace, card, 'approve'));
    expect(notice(answer)).toContain('you hold none of these roles');
    expect(notice(answer)).toContain('"color":"Attention"');
    expect(answer.actions).toHaveLength(2);
    expect(text(answer)).toContain('Approvals: 0 of 2');
    const denied = answeredCard(await click(grace, card, 'deny', { denyReason: 'not mine to approve' }));
    expect(notice(denied)).toContain('you hold none of these roles');
    expect(await votes(id)).toEqual([]);
    expect(await status(id)).toBe('pending');
    // The refusal is the invoke's answer alone: nothing posted or updated for everyone.
    expect({ posts: fake.posts.length, updates: fake.updates.length }).toEqual(before);
  });

  it('refuses a click from another tenant without showing the card', async () => {
    const id = await escalate(intents.prodDelete);
    const card = await post(id, APPROVALS);
    const other = '00000000-0000-4000-8000-000000000002';
    for (const opts of [{ tenantId: other }, { conversationTenantId: other }]) {
      const res = await click(alice, card, 'approve', {}, opts);
      expect(res.status).toBe(403);
      expect(res.body).toMatchObject({ statusCode: 403, type: 'application/vnd.microsoft.error' });
      expect(text(res.body)).not.toContain('Delete prod-eu-1');
    }
    expect(await votes(id)).toEqual([]);
  });

  it('refuses users the directory does not know, or knows under another Teams account', async () => {
    const id = await escalate(intents.prodDelete);
    const card = await post(id, APPROVALS);
    const nobodyInRoster: TeamsUser = { id: '29:ghost', name: 'Ghost', aadObjectId: '6f1c2a3e-1b2d-4c5e-8f90-0a1b2c3d4e77' };
    for (const user of [stranger, notIvan, nobodyInRoster]) {
      const answer = answeredCard(await click(user, card, 'approve'));
      expect(notice(answer)).toContain('You are not in the countersign directory');
    }
    expect(await votes(id)).toEqual([]);
  });

  it('counts duplicate and simultaneous clicks once', async () => {
    const id = await escalate(intents.prodDelete);
    const card = await post(id, APPROVALS);
    const answers = await Promise.all([1, 2, 3, 4].map(() => click(carol, card, 'approve')));
    const notices = answers.map((a) => notice(answeredCard(a)));
    expect(notices.filter((n) => n.includes('Your approval is recorded'))).toHaveLength(1);
    expect(notices.filter((n) => n.includes('You have already voted'))).toHaveLength(3);
    const again = answeredCard(await click(carol, card, 'approve'));
    expect(notice(again)).toContain('You have already voted');
    expect((await votes(id)).map((v) => v.personId)).toEqual(['carol']);
  });

  it('says so when a click comes after expiry, and records nothing', async () => {
    const id = await escalate({ action: { type: 'test.short', resource: 'r' } });
    const card = await post(id, APPROVALS);
    t.clock.advance(61_000);
    const answer = answeredCard(await click(alice, card, 'approve'));
    expect(notice(answer)).toContain('expired');
    expect(text(answer)).toContain('Expired: not approved in time');
    expect(answer.actions).toBeUndefined();
    expect(await status(id)).toBe('expired');
    expect(await votes(id)).toEqual([]);
  });

  it('needs a reason to deny; a deny with a reason refuses the action', async () => {
    const id = await escalate(intents.prodDelete);
    const card = await post(id, APPROVALS);
    expect(notice(answeredCard(await click(bob, card, 'deny')))).toContain('A deny needs a reason');
    expect(notice(answeredCard(await click(bob, card, 'deny', { denyReason: '   ' })))).toContain('A deny needs a reason');
    expect(await votes(id)).toEqual([]);
    const answer = answeredCard(await click(bob, card, 'deny', { denyReason: 'customer data still there' }));
    expect(notice(answer)).toContain('Your denial is recorded');
    expect(text(answer)).toContain('Denied by Bob (bob): denied by bob: customer data still there');
    expect(await status(id)).toBe('refused');
  });

  it('asks for an approval reason when the rule requires one', async () => {
    const id = await escalate({ action: { type: 'test.reason', resource: 'r' } });
    const card = await post(id, APPROVALS);
    const posted = fake.current(card.ref.activityId)!;
    expect(text(posted)).toContain('"id":"approveReason"');
    expect(notice(answeredCard(await click(judy, card, 'approve')))).toContain('requires a reason');
    expect(await votes(id)).toEqual([]);
    answeredCard(await click(judy, card, 'approve', { approveReason: 'checked the runbook' }));
    expect((await votes(id)).map((v) => [v.personId, v.reason])).toEqual([['judy', 'checked the runbook']]);
    expect(await status(id)).toBe('approved');
  });

  it('refreshes the card for each viewer: their own vote, or the buttons', async () => {
    const id = await escalate(intents.prodDelete);
    const card = await post(id, APPROVALS);
    answeredCard(await click(alice, card, 'approve'));
    const forAlice = answeredCard(await click(alice, card, 'refresh'));
    expect(notice(forAlice)).toContain('You approved this');
    expect(forAlice.actions).toBeUndefined();
    const forJudy = answeredCard(await click(judy, card, 'refresh'));
    expect(forJudy.actions).toHaveLength(2);
    expect(text(forJudy)).toContain('Approvals: 1 of 2');
    expect((await votes(id)).map((v) => v.personId)).toEqual(['alice']);
  });

  it("refreshes with the engine's dry run: a viewer who cannot decide sees why instead of the buttons", async () => {
    const id = await escalate(intents.prodDelete, 'alice');
    const card = await post(id, APPROVALS);
    const forAlice = answeredCard(await click(alice, card, 'refresh'));
    expect(notice(forAlice)).toContain('You requested this action');
    expect(forAlice.actions).toBeUndefined();
    // bob (security) may still fill the open security slot: his buttons stay.
    expect(answeredCard(await click(bob, card, 'refresh')).actions).toHaveLength(2);
    expect(await votes(id)).toEqual([]);
  });
});

describe('posting', () => {
  it('reports throttling as retryable with Retry-After, then posts once', async () => {
    const id = await escalate(intents.prodDelete);
    const card = await model(id);
    const postsTo = () => fake.posts.filter((p) => p.conversationId === GROUP_CHAT).length;
    const before = postsTo();
    fake.failNext(1, 429, { headers: { 'retry-after': '2' }, match: (m, p) => m === 'POST' && p.includes('/activities') });
    const err = await teams.postCard(card, { target: GROUP_CHAT }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ChannelError);
    expect(err).toMatchObject({ retryable: true, code: 'throttled', retryAfterMs: 2000 });
    expect(postsTo()).toBe(before);
    // The SDK's own retries are off: the queue decides when to try again.
    expect(fake.calls.filter((c) => c.status === 429)).toHaveLength(1);
    await teams.postCard(card, { target: GROUP_CHAT });
    expect(postsTo()).toBe(before + 1);

    for (const code of [412, 502, 504]) {
      fake.failNext(1, code, { match: (m, p) => m === 'POST' && p.includes('/activities') });
      await expect(teams.postCard(card, { target: GROUP_CHAT })).rejects.toMatchObject({ retryable: true, code: 'throttled' });
    }
    expect(postsTo()).toBe(before + 1);
  });

  it("posts a request with hundreds of attributes and long texts within Teams' message size limit", async () => {
    // Within the API's 64 KB body limit; rendered in full, the card would be about twice Teams' limit.
    const attrs = (n: number, prefix: string) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`${prefix}-${i}`, `${i} `.padEnd(110, 'x')]));
    const id = await escalate({
      ...intents.prodDelete,
      action: { ...intents.prodDelete.action, summary: `Delete prod-eu-1 ${'s'.repeat(480)}`, resource: `env/${'r'.repeat(490)}` },
      context: { environment: 'production', attributes: attrs(250, 'context') },
      authority: { reference: 'a'.repeat(500), attributes: attrs(120, 'authority') },
      justification: 'j'.repeat(2000),
    });
    const card = await post(id, APPROVALS);
    const posted = fake.posts.find((p) => p.id === card.ref.activityId)!;
    expect(Buffer.byteLength(JSON.stringify(posted.activity))).toBeLessThan(TEAMS_MESSAGE_LIMIT_BYTES);
    const content = (posted.activity.attachments as { content: CardJson }[])[0]!.content;
    expect(validateAdaptiveCard(content as never)).toEqual([]);
    expect(text(content)).toMatch(/and \d+ more entries not shown/);
    expect(content.actions).toHaveLength(2);
    // The same holds for its updates and for the card answered to a click.
    const answer = answeredCard(await click(alice, card, 'approve'));
    expect(Buffer.byteLength(JSON.stringify(answer))).toBeLessThan(TEAMS_MESSAGE_LIMIT_BYTES);
    await teams.updateCard(await model(id), card.ref as never);
    expect(fake.calls.filter((c) => c.status === 413)).toEqual([]);
  });

  it('gives up on a conversation the bot was removed from', async () => {
    const id = await escalate(intents.prodDelete);
    const card = await post(id, GROUP_CHAT, 'groupChat');
    fake.removeBotFrom(GROUP_CHAT);
    await expect(teams.postCard(await model(id), { target: GROUP_CHAT })).rejects.toMatchObject({ retryable: false, code: 'conversation_gone' });
    await expect(teams.updateCard(await model(id), card.ref as never)).rejects.toMatchObject({ retryable: false, code: 'conversation_gone' });
    await expect(teams.postCard(await model(id), { target: '19:never-installed@thread.v2' })).rejects.toMatchObject({ retryable: false, code: 'conversation_gone' });
  });

  it('reminds in the card thread and notifies people in their personal chat', async () => {
    const id = await escalate(intents.prodDelete);
    const card = await post(id, APPROVALS);
    await teams.remind(await model(id), card.ref as never, 'Still waiting for security');
    const reply = fake.posts.at(-1)!;
    expect(reply).toMatchObject({ conversationId: `${APPROVALS};messageid=${card.ref.activityId}`, replyToId: card.ref.activityId });
    expect(reply.activity.text).toBe('Still waiting for security');

    const m = await model(id);
    expect(await teams.notifyPerson('bob', { actionId: id, text: 'Your request was approved', card: m })).toBe(true);
    expect(fake.posts.at(-1)).toMatchObject({ conversationId: personalChat(bob) });
    expect(fake.posts.at(-1)!.activity.text).toBe('Your request was approved');
    // Caller text (a summary) in a notice is shown as written, never as a link.
    const lure = 'Your request "[Approve here](https://evil.example) <a href="https://evil.example">or here</a>" was approved';
    expect(await teams.notifyPerson('bob', { actionId: id, text: lure, card: m })).toBe(true);
    const sent = String(fake.posts.at(-1)!.activity.text);
    expect(sent).not.toMatch(/\]\(|<a/);
    expect(sent.replaceAll('\u200B', '')).toBe(lure);
    // dave has no Teams id; ivan has one but never installed the bot.
    expect(await teams.notifyPerson('dave', { actionId: id, text: 'x', card: m })).toBe(false);
    expect(await teams.notifyPerson('ivan', { actionId: id, text: 'x', card: m })).toBe(false);
  });
});
