import fs from 'node:fs';
import path from 'node:path';
import pino from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { approverAtMark, identityBinding, personBinding } from '@countersign/core';
import { slackModule } from '@countersign/slack';
import { workerModule } from '@countersign/worker';
import { FakeSlack, type FakeMessage } from './fakes/slack-api.ts';
import { click, type Clicker } from './fakes/slack-interactions.ts';
import { setDirectory } from './support/directory-file.ts';
import { randomQueuePrefix } from './support/database.ts';
import { startTestService, type TestService } from './support/service.ts';

// A party's own Slack account stays a party, whoever the directory says it is later (review s14
// d, D1). Carol's Slack account is not pinned in the directory: she is matched by her confirmed
// email. Renamed while her request waits (new id, new mailbox, the Slack profile's email
// following), her account used to match the new entry, share nothing with what was recorded at
// submission, and approve her own request. Now the queue records each party's Slack account
// with the action before it posts a card, and a click counts the clicking account among the
// voter's identities (which also covers a pin dropped when an entry is recreated).

const SECRET = 'party-accounts-signing-secret-01';
const TEAM = 'T0TEAM0001';
const APPROVALS = 'C0APPROVE1';
const FIXTURES = path.resolve(import.meta.dirname, 'fixtures');
const DIRECTORY = fs.readFileSync(path.join(FIXTURES, 'directory.yaml'), 'utf8');
const ALICE = '  - { id: alice, name: Alice, email: alice@example.com, roles: [sre-lead], slack: { userId: U0ALICE01 } }\n';
const CAROL = '  - { id: carol, name: Carol, email: carol@example.com, roles: [sre-lead, security] }\n';
const JUDY = '  - { id: judy, name: Judy, email: judy@example.com, roles: [security] }\n';
const GRACE = '  - { id: grace, name: Grace, email: grace@example.com, roles: [auditor] }\n';
const FRANK = '  - { id: frank, name: Frank, email: frank@example.com, roles: [finance-approver] }\n';

const alice: Clicker = { id: 'U0ALICE01', teamId: TEAM };
const carol: Clicker = { id: 'U0CAROL01', teamId: TEAM };
const erin: Clicker = { id: 'U0ERIN001', teamId: TEAM };
const judy: Clicker = { id: 'U0JUDY001', teamId: TEAM };
const grace: Clicker = { id: 'U0GRACE01', teamId: TEAM };

const RULES = `
  - id: party-accounts
    when: 'action.type == "party.accounts"'
    outcome: escalate
    reason: one SRE lead approves
    requirement:
      approvers: [{ role: sre-lead, count: 1 }]
      expiresIn: 30m
      channels:
        slack: ['${APPROVALS}']
`;
const intent = (resource: string) => ({ action: { type: 'party.accounts', resource } });

let fake: FakeSlack;
let t: TestService;
const warnings: Record<string, unknown>[] = [];
beforeAll(async () => {
  for (const line of [ALICE, CAROL, JUDY, GRACE, FRANK]) expect(DIRECTORY).toContain(line);
  fake = await FakeSlack.start({
    teamId: TEAM,
    channels: [{ id: APPROVALS, name: 'prod-approvals' }],
    users: [
      { id: alice.id, team_id: TEAM, email: 'alice@example.com', is_email_confirmed: true },
      { id: carol.id, team_id: TEAM, email: 'carol@example.com', is_email_confirmed: true },
      { id: erin.id, team_id: TEAM, email: 'erin@example.com', is_email_confirmed: true },
      { id: judy.id, team_id: TEAM, email: 'judy@example.com', is_email_confirmed: true },
      { id: grace.id, team_id: TEAM, email: 'grace@example.com', is_email_confirmed: true },
    ],
  });
  const fixture = fs.readFileSync(path.join(FIXTURES, 'policy.yaml'), 'utf8');
  t = await startTestService({
    policy: `${fixture.trimEnd()}\n${RULES}`,
    modules: [slackModule, workerModule],
    // Warnings kept, to wait for what the worker chose not to do.
    logger: pino({ level: 'warn' }, { write: (line: string) => void warnings.push(JSON.parse(line) as Record<string, unknown>) }),
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
});
afterEach(async () => {
  await setDirectory(t, DIRECTORY);
  fake.addUser({ id: alice.id, team_id: TEAM, email: 'alice@example.com', is_email_confirmed: true });
  fake.addUser({ id: carol.id, team_id: TEAM, email: 'carol@example.com', is_email_confirmed: true });
  fake.addUser({ id: judy.id, team_id: TEAM, email: 'judy@example.com', is_email_confirmed: true });
  fake.addUser({ id: erin.id, team_id: TEAM, email: 'erin@example.com', is_email_confirmed: true });
});
afterAll(async () => {
  await t?.stop();
  await fake?.close();
});

const store = () => t.service.context.store;
const keyFor = async (id: string) => (await t.service.keys.create(id)).token;
const cardFor = (id: string) => fake.waitFor(() => fake.cardsIn(APPROVALS).find((m) => JSON.stringify(m.history[0]!.blocks).includes(id)), 15_000, `card for ${id}`);
/**
 * Holds Slack's answer to users.lookupByEmail for `email` (service_unavailable once released),
 * and says when it was asked: the directory can change while a card waits on the lookup.
 */
function holdLookup(email: string): { asked: () => boolean; release: () => void } {
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  let asked = false;
  fake.onArrive((c) => {
    if (c.method === 'users.lookupByEmail' && c.args.email === email) asked = true;
  });
  fake.script('users.lookupByEmail', { until: released, body: { ok: false, error: 'service_unavailable' }, match: (args) => args.email === email });
  return { asked: () => asked, release };
}

/** How many party_changed channel errors the service has counted. */
async function partyChanged(): Promise<number> {
  const line = (await t.api('GET', '/metrics')).text.split('\n').find((l) => l.startsWith('countersign_channel_errors_total{') && l.includes('code="party_changed"'));
  return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : 0;
}
const ephemeralsTo = (who: Clicker) => fake.okCallsTo('chat.postEphemeral').filter((c) => c.args.user === who.id);

async function submitAs(token: string, resource: string): Promise<string> {
  const res = await t.api('POST', '/v1/actions', { token, body: intent(resource) });
  expect(res.status, res.text).toBe(201);
  expect(res.body.status).toBe('pending');
  return res.body.id as string;
}

/** Clicks Approve and waits for the answer to the clicker (a refusal) or for a vote. */
async function approve(who: Clicker, card: FakeMessage, id: string): Promise<void> {
  const res = await click(t.url, SECRET, { user: who, decision: 'approve', actionId: id, channel: card.channel, messageTs: card.ts });
  expect(res.status).toBe(200);
}

async function refusedAsParty(who: Clicker, card: FakeMessage, id: string): Promise<void> {
  const before = ephemeralsTo(who).length;
  await approve(who, card, id);
  const told = await fake.waitFor(() => ephemeralsTo(who).length > before && ephemeralsTo(who).at(-1), 15_000, `refusal to ${who.id}`);
  expect(String(told.args.text)).toMatch(/your own request|requested/i);
  expect(await store().votesFor(id)).toEqual([]);
}

describe("a party's Slack account, renamed in the directory while the request waits", () => {
  it('an unpinned requester: her account is recorded before the card is posted and refused after the rename', async () => {
    const id = await submitAs(await keyFor('carol'), 'env/party-1');
    const card = await cardFor(id);
    // Found by her email and recorded with the action before the post.
    const recorded = (await store().findAction(id))!.partyBindings;
    expect(recorded).toContain(`party:${identityBinding(`slack:${carol.id}`)}`);
    expect(recorded).toContain('accounts:slack');
    const lookup = fake.okCallsTo('users.lookupByEmail').find((c) => c.args.email === 'carol@example.com')!;
    const post = fake.okCallsTo('chat.postMessage').find((c) => JSON.stringify(c.args).includes(id))!;
    expect(lookup.at <= post.at).toBe(true);

    // Carol becomes carol.diaz: new id, new mailbox, and Slack's profile email follows.
    await setDirectory(t, DIRECTORY.replace(CAROL, '  - { id: carol.diaz, name: Carol Diaz, email: carol.diaz@example.com, roles: [sre-lead, security] }\n'));
    fake.addUser({ id: carol.id, team_id: TEAM, email: 'carol.diaz@example.com', is_email_confirmed: true });
    await refusedAsParty(carol, card, id);

    // Someone else may still approve it.
    await approve(erin, card, id);
    await fake.waitFor(async () => (await store().findAction(id))!.status === 'approved', 15_000, 'approved by erin');
    expect((await store().votesFor(id)).map((v) => v.personId)).toEqual(['erin']);
  });

  it('a requester whose email alone changed (same id, Slack following) is still told the outcome', async () => {
    // Review s16 d, 2: her email digest no longer matches, but Slack finds her by the new email
    // under the account recorded before the first card: the same person, told.
    const id = await submitAs(await keyFor('carol'), 'env/party-1b');
    const card = await cardFor(id);
    await setDirectory(t, DIRECTORY.replace(CAROL, '  - { id: carol, name: Carol, email: carol.d@example.com, roles: [sre-lead, security] }\n'));
    fake.addUser({ id: carol.id, team_id: TEAM, email: 'carol.d@example.com', is_email_confirmed: true });
    await approve(alice, card, id);
    const told = await fake.waitFor(() => fake.okCallsTo('chat.postMessage').find((c) => c.args.channel === fake.dmOf(carol.id) && JSON.stringify(c.args).includes(id)), 15_000, 'notice to carol');
    expect(String(told.args.text)).toMatch(/approved/i);
  });

  it("a newcomer given the requester's id and mailbox, with a Slack account of their own, is not told her outcome", async () => {
    // Review s16 e, 2: the email digest matches what was recorded, the account does not.
    const id = await submitAs(await keyFor('carol'), 'env/party-1c');
    const card = await cardFor(id);
    fake.addUser({ id: 'U0CARLA01', team_id: TEAM, email: 'carla@example.com', is_email_confirmed: true });
    await setDirectory(t, DIRECTORY.replace(CAROL, '  - { id: carol, name: Carla, email: carol@example.com, roles: [developer], slack: { userId: U0CARLA01 } }\n'));
    await approve(alice, card, id);
    await fake.waitFor(() => warnings.some((w) => w.actionId === id && String(w.msg).includes('not told here')), 15_000, 'notice withheld');
    expect(fake.calls.filter((c) => c.args.channel === fake.dmOf('U0CARLA01') || String(c.args.users ?? '').includes('U0CARLA01'))).toEqual([]);
  });

  it('a pinned requester whose pin is dropped when the entry is recreated: the clicking account is still hers', async () => {
    const id = await submitAs(await keyFor('alice'), 'env/party-2');
    const card = await cardFor(id);
    await setDirectory(t, DIRECTORY.replace(ALICE, '  - { id: alice.m, name: Alice M, email: alice.m@example.com, roles: [sre-lead] }\n'));
    fake.addUser({ id: alice.id, team_id: TEAM, email: 'alice.m@example.com', is_email_confirmed: true });
    await refusedAsParty(alice, card, id);
  });

  it('a requester renamed before her first Slack card (new mailbox): no card is posted and the request is refused', async () => {
    // Slack cannot answer the lookup until the directory has renamed her (review s15 a, A),
    // here into the role that approves it: nothing tells her new entry from a newcomer, who
    // could approve it through the API or the console (review s16 b, 1).
    const lookup = holdLookup('judy@example.com');
    const id = await submitAs(await keyFor('judy'), 'env/party-4');
    await fake.waitFor(() => lookup.asked(), 15_000, "judy's lookup");
    // Her id is given to a newcomer, who must not be told about her request as if it were theirs.
    await setDirectory(
      t,
      DIRECTORY.replace(JUDY, '  - { id: judy.k, name: Judy K, email: judy.k@example.com, roles: [sre-lead] }\n  - { id: judy, name: Judy New, email: judy.new@example.com, roles: [developer] }\n'),
    );
    fake.addUser({ id: judy.id, team_id: TEAM, email: 'judy.k@example.com', is_email_confirmed: true });
    fake.addUser({ id: 'U0JNEW001', team_id: TEAM, email: 'judy.new@example.com', is_email_confirmed: true });
    const before = await partyChanged();
    lookup.release();
    await fake.waitFor(async () => (await partyChanged()) > before, 15_000, 'party_changed counted');
    await fake.waitFor(async () => (await store().findAction(id))!.status === 'refused', 15_000, 'refused');
    const refused = (await store().findAction(id))!;
    expect(refused).toMatchObject({ decidedBy: 'system' });
    expect(refused.decisionReason).toMatch(/overrode a refusal: "judy"\) is no longer in the directory as they were .*: the request is refused \(submit it again\)/);
    expect(fake.cardsIn(APPROVALS).some((m) => JSON.stringify(m.history[0]!.blocks).includes(id))).toBe(false);
    expect(refused.partyBindings).not.toContain('accounts:slack');
    // Her new entry cannot approve it anywhere, and whoever reads it is told why.
    const vote = await t.api('POST', `/v1/actions/${id}/votes`, { token: await keyFor('judy.k'), body: { decision: 'approve', reason: 'mine' } });
    expect(vote.status, vote.text).toBe(409);
    expect(await store().votesFor(id)).toEqual([]);
    const seen = await t.api('GET', `/v1/actions/${id}`, { token: await keyFor('alice') });
    expect(seen.body, seen.text).toMatchObject({ status: 'refused' });
    expect(JSON.stringify(seen.body)).toContain('submit it again');
    // The notice: not to the newcomer now under her id (review s16 c, 1).
    await fake.waitFor(() => warnings.some((w) => w.actionId === id && String(w.msg).includes('names someone else now')), 15_000, 'notice withheld');
    expect(fake.calls.filter((c) => JSON.stringify(c.args).includes('U0JNEW001') && c.method !== 'users.lookupByEmail')).toEqual([]);
  });

  it('a later tier posts to Slack after a party was renamed: recorded once, not asked again', async () => {
    const id = await submitAs(await keyFor('carol'), 'env/party-5');
    await cardFor(id);
    const bindings = (await store().findAction(id))!.partyBindings;
    expect(bindings).toContain('accounts:slack');
    await setDirectory(t, DIRECTORY.replace(CAROL, '  - { id: carol.diaz, name: Carol Diaz, email: carol.diaz@example.com, roles: [sre-lead, security] }\n'));
    // The next tier's job on the same action: same bindings, nothing asked, nothing refused.
    const { recordPartyAccounts } = await import('../modules/worker/src/jobs/party-accounts.ts');
    const slack = t.service.context.channels.get('slack')!;
    const action = (await store().findAction(id))!;
    await recordPartyAccounts({ store: store(), config: t.service.context.config, logger: t.service.context.logger }, slack, action);
    expect((await store().findAction(id))!.partyBindings).toEqual(bindings);
  });

  it("a requester whose Slack profile email changed before the directory's: only pinned accounts approve it in Slack", async () => {
    // Slack finds no account for judy@ (review s15 b, 1): hers may be under another email.
    fake.addUser({ id: judy.id, team_id: TEAM, email: 'judy.k@example.com', is_email_confirmed: true });
    const id = await submitAs(await keyFor('judy'), 'env/party-6');
    const card = await cardFor(id);
    expect((await store().findAction(id))!.partyBindings).toEqual(expect.arrayContaining(['unmatched:slack', 'accounts:slack']));
    // The directory catches up: judy is judy.k, made an SRE lead; her click would fill the slot.
    await setDirectory(t, DIRECTORY.replace(JUDY, '  - { id: judy.k, name: Judy K, email: judy.k@example.com, roles: [sre-lead] }\n'));
    const before = ephemeralsTo(judy).length;
    await approve(judy, card, id);
    const told = await fake.waitFor(() => ephemeralsTo(judy).length > before && ephemeralsTo(judy).at(-1), 15_000, 'refusal to judy');
    expect(String(told.args.text)).toMatch(/only people who held a role it asks for when that was found may approve it, and you were not one of them/);
    expect(await store().votesFor(id)).toEqual([]);
    // Erin held the role then, but her Slack account is found by email, not pinned: it may be
    // the requester's under another email, so she approves it elsewhere.
    const erinBefore = ephemeralsTo(erin).length;
    await approve(erin, card, id);
    const toErin = await fake.waitFor(() => ephemeralsTo(erin).length > erinBefore && ephemeralsTo(erin).at(-1), 15_000, 'refusal to erin');
    expect(String(toErin.args.text)).toMatch(/in slack only from an account the directory pinned to them then, which this one was not: approve it in the console or through the API/);
    expect(await store().votesFor(id)).toEqual([]);
    const vote = await t.api('POST', `/v1/actions/${id}/votes`, { token: await keyFor('erin'), body: { decision: 'approve', reason: 'checked' } });
    expect(vote.status, vote.text).toBe(201);
    await fake.waitFor(async () => (await store().findAction(id))!.status === 'approved', 15_000, 'approved by erin');
  });

  it('on such a request, an account pinned after the card was posted does not approve, even pinned to an approver; nor does her renamed entry through the API', async () => {
    // Review s15 c, C1: judy's Slack profile changes first (the request is marked unmatched),
    // then the directory renames her with that mailbox, makes her an SRE lead, and an
    // administrator pins her own Slack account to the new entry. Pinned, but not when marked.
    fake.addUser({ id: judy.id, team_id: TEAM, email: 'judy.k@example.com', is_email_confirmed: true });
    const id = await submitAs(await keyFor('judy'), 'env/party-6b');
    const card = await cardFor(id);
    const marked = (await store().findAction(id))!;
    expect(marked.partyBindings).toEqual(expect.arrayContaining(['unmatched:slack', 'accounts:slack']));
    // Who could approve then, beside the parties' entries (which every vote check reads in full):
    // the SRE leads alice and carol, and alice's pinned account U0ALICE01 (carol is unpinned).
    expect(marked.partyBindings!.filter((b) => b.startsWith('pin:') || b.startsWith('person:'))).toEqual([]);
    expect(marked.approversAtMark!.filter((b) => b.startsWith('person:'))).toHaveLength(DIRECTORY.split('\n').filter((l) => /roles: \[[^\]]*sre-lead/.test(l)).length);
    expect(marked.approversAtMark!.filter((b) => b.startsWith('pin:slack:'))).toHaveLength(1);
    await setDirectory(t, DIRECTORY.replace(JUDY, `  - { id: judy.k, name: Judy K, email: judy.k@example.com, roles: [sre-lead], slack: { userId: ${judy.id} } }\n`));
    const before = ephemeralsTo(judy).length;
    await approve(judy, card, id);
    const told = await fake.waitFor(() => ephemeralsTo(judy).length > before && ephemeralsTo(judy).at(-1), 15_000, 'refusal to judy');
    expect(String(told.args.text)).toMatch(/only people who held a role it asks for when that was found may approve it, and you were not one of them/);
    expect(await store().votesFor(id)).toEqual([]);
    // Her renamed entry, voting through the API with a key of its own (review s16 a, F1).
    const api = await t.api('POST', `/v1/actions/${id}/votes`, { token: await keyFor('judy.k'), body: { decision: 'approve', reason: 'mine' } });
    expect(api.status, api.text).toBe(403);
    expect(api.body.detail).toMatch(/only people who held a role it asks for when that was found may approve it/);
    expect(await store().votesFor(id)).toEqual([]);
    // Alice, pinned when it was posted, approves it in Slack.
    await approve(alice, card, id);
    await fake.waitFor(async () => (await store().findAction(id))!.status === 'approved', 15_000, 'approved by alice');
  });

  it("on such a request from someone who holds the role, she is not among those recorded as able to approve it", async () => {
    // Review s16 c, 3: a party could never approve it; counting her would send people to her.
    fake.addUser({ id: erin.id, team_id: TEAM, email: 'erin.r@example.com', is_email_confirmed: true });
    const id = await submitAs(await keyFor('erin'), 'env/party-6c');
    await cardFor(id);
    const marked = (await store().findAction(id))!;
    expect(marked.partyBindings).toContain('unmatched:slack');
    const directory = t.service.context.config.current().directory;
    const recorded = (who: string) => marked.approversAtMark!.includes(approverAtMark(personBinding(directory.person(who)!)));
    expect(marked.approversAtMark).toContain('recorded:slack');
    expect([recorded('erin'), recorded('alice'), recorded('ivan')]).toEqual([false, true, true]);
    const vote = await t.api('POST', `/v1/actions/${id}/votes`, { token: await keyFor('ivan'), body: { decision: 'approve', reason: 'checked' } });
    expect(vote.status, vote.text).toBe(201);
  });

  it('a pinned requester renamed while the card is held back is found by her pin; an old mailbox given to someone else finds nobody', async () => {
    // Grace, pinned, renamed with a new id and mailbox, the pin kept: still the party.
    const PINNED_GRACE = GRACE.replace('roles: [auditor] }', `roles: [auditor], slack: { userId: ${grace.id} } }`);
    await setDirectory(t, DIRECTORY.replace(GRACE, PINNED_GRACE));
    const first = await submitAs(await keyFor('grace'), 'env/party-7');
    await cardFor(first);
    await setDirectory(t, DIRECTORY.replace(GRACE, PINNED_GRACE.replace('{ id: grace,', '{ id: grace.h,').replace('grace@', 'grace.h@')));
    const { recordPartyAccounts } = await import('../modules/worker/src/jobs/party-accounts.ts');
    const slack = t.service.context.channels.get('slack')!;
    const deps = { store: store(), config: t.service.context.config, logger: t.service.context.logger };
    const bindings = (await store().findAction(first))!.partyBindings;
    await recordPartyAccounts(deps, slack, (await store().findAction(first))!);
    expect((await store().findAction(first))!.partyBindings).toEqual(bindings);

    // Frank, unpinned, renamed with a new mailbox while a newcomer is given frank@ (review s15
    // c, C2): the newcomer is not taken for him; no Slack card.
    await setDirectory(t, DIRECTORY);
    const frankLookup = holdLookup('frank@example.com');
    const before = await partyChanged();
    const id = await submitAs(await keyFor('frank'), 'env/party-8');
    await fake.waitFor(() => frankLookup.asked(), 15_000, "frank's lookup");
    await setDirectory(
      t,
      DIRECTORY.replace(FRANK, '  - { id: frank.d, name: Frank D, email: frank.d@example.com, roles: [finance-approver] }\n  - { id: frank.new, name: Frank New, email: frank@example.com, roles: [developer] }\n'),
    );
    frankLookup.release();
    await fake.waitFor(async () => (await partyChanged()) > before, 15_000, 'party_changed counted');
    expect(fake.cardsIn(APPROVALS).some((m) => JSON.stringify(m.history[0]!.blocks).includes(id))).toBe(false);
    expect((await store().findAction(id))!.partyBindings ?? []).not.toContain('accounts:slack');
  });

  it("a person acted for, renamed with a new mailbox while the card is held back, is not taken for the pinned requester", async () => {
    // alice (pinned) acts for frank (unpinned): the pin scan must not find alice for frank
    // (review s15 d, E1); frank is found nowhere, so no Slack card.
    const lookup = holdLookup('frank@example.com');
    const { token } = await t.service.keys.create('alice', { canDelegate: true, delegateFor: ['frank'] });
    const res = await t.api('POST', '/v1/actions', { token, body: { ...intent('env/party-9'), onBehalfOf: 'frank' } });
    expect(res.status, res.text).toBe(201);
    const id = res.body.id as string;
    await fake.waitFor(() => lookup.asked(), 15_000, "frank's lookup");
    const before = await partyChanged();
    await setDirectory(t, DIRECTORY.replace(FRANK, '  - { id: frank.d, name: Frank D, email: frank.d@example.com, roles: [finance-approver] }\n'));
    lookup.release();
    await fake.waitFor(async () => (await partyChanged()) > before, 15_000, 'party_changed counted');
    expect(fake.cardsIn(APPROVALS).some((m) => JSON.stringify(m.history[0]!.blocks).includes(id))).toBe(false);
  });

  it('a pinned requester renamed (new id, new mailbox, same pin) after the first card: a later tier still posts', async () => {
    const id = await submitAs(await keyFor('alice'), 'env/party-8');
    await cardFor(id);
    const bindings = (await store().findAction(id))!.partyBindings;
    // Nothing new to record for a pinned requester: nothing written.
    expect(bindings).not.toContain('accounts:slack');
    await setDirectory(t, DIRECTORY.replace(ALICE, ALICE.replace('{ id: alice,', '{ id: alice.m,').replace('alice@example.com', 'alice.m@example.com')));
    const { recordPartyAccounts } = await import('../modules/worker/src/jobs/party-accounts.ts');
    const slack = t.service.context.channels.get('slack')!;
    await recordPartyAccounts({ store: store(), config: t.service.context.config, logger: t.service.context.logger }, slack, (await store().findAction(id))!);
    expect((await store().findAction(id))!.partyBindings).toEqual(bindings);
  });

  it('a Slack that cannot say who a party is holds the card back until it can', async () => {
    fake.failNext('users.lookupByEmail', 'service_unavailable', 1, (args) => args.email === 'erin@example.com');
    const id = await submitAs(await keyFor('erin'), 'env/party-3');
    const card = await cardFor(id);
    const lookups = fake.callsTo('users.lookupByEmail').filter((c) => c.args.email === 'erin@example.com');
    const posts = fake.okCallsTo('chat.postMessage').filter((c) => JSON.stringify(c.args).includes(id));
    expect(posts).toHaveLength(1);
    // The failed lookup came first; the card went out only after one that answered.
    expect(lookups.length).toBeGreaterThanOrEqual(2);
    expect(lookups.filter((c) => c.at <= posts[0]!.at).length).toBeGreaterThanOrEqual(2);
    expect((await store().findAction(id))!.partyBindings).toContain(`party:${identityBinding(`slack:${erin.id}`)}`);
    await refusedAsParty(erin, card, id);
  });
});
