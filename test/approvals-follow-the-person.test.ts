import fs from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { setDirectory } from './support/directory-file.ts';
import { intents, startTestService, type TestService } from './support/service.ts';

// Approvals follow the person, not the directory id (review s14 b, findings 1 and 2). Ids get
// renamed and reused while a request waits: the requester renamed is still the requester, one
// human renamed still fills one slot, and a newcomer given an old id does not inherit the vote
// cast under it. The parties of a request and each vote are bound to the person's email at
// submission and at vote time, as API keys are. And whoever overrides a refusal may not also
// approve the escalation the override hands over to.

const FIXTURES = path.resolve(import.meta.dirname, 'fixtures');
const DIRECTORY = fs.readFileSync(path.join(FIXTURES, 'directory.yaml'), 'utf8');
const ALICE = '  - { id: alice, name: Alice, email: alice@example.com, roles: [sre-lead], slack: { userId: U0ALICE01 } }\n';
const CAROL = '  - { id: carol, name: Carol, email: carol@example.com, roles: [sre-lead, security] }\n';
const ERIN = '  - { id: erin, name: Erin, email: erin@example.com, roles: [developer, sre-lead] }\n';
const JUDY = '  - { id: judy, name: Judy, email: judy@example.com, roles: [security] }\n';
const BOB = '  - { id: bob, name: Bob, email: bob@example.com, roles: [security], slack: { userId: U0BOB0001 } }\n';
const DEPLOY_BOT = '  - { id: deploy-bot, name: Deploy bot, owner: erin, roles: [deployer] }\n';

// A purge is frozen (security may lift the freeze) and needs one security approver as well.
// A wipe is frozen too (an SRE lead may lift it) and then needs security, owners allowed.
const PURGE_RULES = `
  - id: wipe-freeze
    when: 'action.type == "data.wipe"'
    outcome: refuse
    reason: wipes are frozen; an SRE lead may lift the freeze
    override: { roles: [sre-lead] }

  - id: wipe-needs-security
    when: 'action.type == "data.wipe"'
    outcome: escalate
    reason: a wipe needs a security approver; the agent's owner may be one
    requirement:
      approvers: [{ role: security, count: 1 }]
      expiresIn: 30m
      ownerMayApprove: true

  - id: purge-freeze
    when: 'action.type == "data.purge"'
    outcome: refuse
    reason: purges are frozen; security may lift the freeze
    override: { roles: [security] }

  - id: purge-needs-security
    when: 'action.type == "data.purge"'
    outcome: escalate
    reason: a purge needs a security approver
    requirement:
      approvers: [{ role: security, count: 1 }]
      expiresIn: 30m
`;

let t: TestService;
beforeAll(async () => {
  for (const line of [ALICE, BOB, CAROL, ERIN, JUDY, DEPLOY_BOT]) expect(DIRECTORY).toContain(line);
  const policy = fs.readFileSync(path.join(FIXTURES, 'policy.yaml'), 'utf8').trimEnd() + '\n' + PURGE_RULES;
  t = await startTestService({ policy });
});
afterEach(async () => {
  await setDirectory(t, DIRECTORY);
});
afterAll(async () => {
  await t?.stop();
});

const submit = async (token: string, body: object): Promise<string> => {
  const res = await t.api('POST', '/v1/actions', { token, body });
  expect(res.status, res.text).toBe(201);
  expect(res.body.status).toBe('pending');
  return res.body.id as string;
};
const vote = (id: string, token: string, decision: 'approve' | 'deny' = 'approve') =>
  t.api('POST', `/v1/actions/${id}/votes`, { token, body: { decision, reason: 'checked' } });
const keyFor = async (id: string) => (await t.service.keys.create(id)).token;
const renamed = (line: string, from: string, to: string) => DIRECTORY.replace(line, line.replace(`{ id: ${from},`, `{ id: ${to},`));

describe('the parties of a request, renamed while it waits', () => {
  it('the requester, renamed (same email), may not approve her own request', async () => {
    const id = await submit(t.tokens.alice!, intents.prodDelete);
    expect((await vote(id, t.tokens.alice!)).body.code).toBe('self_approval');

    await setDirectory(t, renamed(ALICE, 'alice', 'alice.martin'));
    const self = await vote(id, await keyFor('alice.martin'));
    expect(self.status, self.text).toBe(403);
    expect(self.body).toMatchObject({ code: 'self_approval' });
    expect(self.body.detail).toMatch(/someone else must decide it/);

    const bob = await vote(id, t.tokens.bob!);
    expect(bob.body.action).toMatchObject({ status: 'pending', progress: { filled: 1, needed: 2 } });
    const ivan = await vote(id, t.tokens.ivan!);
    expect(ivan.body.action).toMatchObject({ status: 'approved' });
    expect(ivan.body.action.progress.approvals.map((a: { personId: string }) => a.personId).sort()).toEqual(['bob', 'ivan']);
  });

  it('the person the agent acts for, renamed, may not approve the request made on her behalf', async () => {
    const id = await submit(t.tokens['deploy-bot']!, { ...intents.prodDelete, onBehalfOf: 'carol' });
    expect((await vote(id, t.tokens.carol!)).body.code).toBe('self_approval');

    await setDirectory(t, renamed(CAROL, 'carol', 'carol.nguyen'));
    const self = await vote(id, await keyFor('carol.nguyen'));
    expect(self.status, self.text).toBe(403);
    expect(self.body).toMatchObject({ code: 'self_approval' });
    const bob = await vote(id, t.tokens.bob!);
    expect(bob.body.action).toMatchObject({ status: 'pending', progress: { filled: 1, needed: 2 } });
  });

  it("the agent's owner, renamed and the agent handed to someone else, may not approve its request", async () => {
    const id = await submit(t.tokens['deploy-bot']!, intents.prodDelete);
    expect((await vote(id, t.tokens.erin!)).body.code).toBe('self_approval');

    // erin becomes erin.ross (same email) and ivan takes the agent over: erin.ross is neither
    // the owner recorded at submission (erin) nor the owner now (ivan), by id.
    const next = renamed(ERIN, 'erin', 'erin.ross').replace(DEPLOY_BOT, DEPLOY_BOT.replace('owner: erin', 'owner: ivan'));
    await setDirectory(t, next);
    const self = await vote(id, await keyFor('erin.ross'));
    expect(self.status, self.text).toBe(403);
    expect(self.body).toMatchObject({ code: 'self_approval' });
  });
});

describe('one vote per person, whatever id they are under', () => {
  it('a renamed person voting again is refused as having voted', async () => {
    const id = await submit(t.tokens['deploy-bot']!, intents.prodDelete);
    expect((await vote(id, t.tokens.judy!)).status).toBe(201);

    await setDirectory(t, renamed(JUDY, 'judy', 'judy.k'));
    const again = await vote(id, await keyFor('judy.k'));
    expect(again.status, again.text).toBe(409);
    expect(again.body).toMatchObject({ code: 'already_voted' });
  });

  it('an id given to someone else does not carry the vote cast under it; one human never fills two slots', async () => {
    const id = await submit(t.tokens['deploy-bot']!, intents.prodDelete);
    const carol = await vote(id, t.tokens.carol!);
    expect(carol.body.action).toMatchObject({ status: 'pending', progress: { filled: 1, needed: 2 } });

    // Carol becomes carol.nguyen (same email); a new hire, Carla, gets the id "carol".
    const next = renamed(CAROL, 'carol', 'carol.nguyen').replace(/^agents:/m, '  - { id: carol, name: Carla New, email: carla@example.com, roles: [sre-lead] }\nagents:');
    await setDirectory(t, next);

    // The vote under "carol" was Carol's, not Carla's: it counts no more.
    const now = await t.api('GET', `/v1/actions/${id}`, { token: t.tokens['deploy-bot'] });
    expect(now.body).toMatchObject({ status: 'pending', progress: { filled: 0, needed: 2 } });
    // Carol herself, renamed, has voted already.
    const again = await vote(id, await keyFor('carol.nguyen'));
    expect(again.status, again.text).toBe(409);
    expect(again.body).toMatchObject({ code: 'already_voted' });

    // bob alone does not complete it; a genuinely different sre-lead does.
    const bob = await vote(id, t.tokens.bob!);
    expect(bob.body.action).toMatchObject({ status: 'pending', progress: { filled: 1, needed: 2 } });
    const alice = await vote(id, t.tokens.alice!);
    expect(alice.body.action).toMatchObject({ status: 'approved' });
    const decided = await t.prisma.artifact.findFirstOrThrow({ where: { kind: 'action.decided', actionId: id } });
    const approvers = JSON.parse(decided.canonical).event.approvers as { personId: string; role: string }[];
    expect(approvers.map((a) => a.personId).sort()).toEqual(['alice', 'bob']);
  });

  it('a vote recorded before bindings (none stored) still counts as before', async () => {
    const id = await submit(t.tokens['deploy-bot']!, intents.prodDelete);
    expect((await vote(id, t.tokens.alice!)).status).toBe(201);
    const row = await t.prisma.vote.findFirstOrThrow({ where: { actionId: id, personId: 'alice' } });
    expect(row.binding).toMatch(/^[0-9a-f]{64}$/);
    await t.prisma.vote.update({ where: { id: row.id }, data: { binding: null } });
    const bob = await vote(id, t.tokens.bob!);
    expect(bob.body.action).toMatchObject({ status: 'approved' });
  });
});

describe('a person is their email and their chat identities', () => {
  it('the requester renamed with a new mailbox but the same Slack account is still the requester (review s14 c)', async () => {
    const id = await submit(t.tokens.alice!, intents.prodDelete);
    const next = DIRECTORY.replace(ALICE, ALICE.replace('{ id: alice,', '{ id: alice.jones,').replace('alice@example.com', 'alice.jones@example.com'));
    expect(next).toContain('alice.jones@example.com, roles: [sre-lead], slack: { userId: U0ALICE01 }');
    await setDirectory(t, next);
    const self = await vote(id, await keyFor('alice.jones'));
    expect(self.status, self.text).toBe(403);
    expect(self.body.code).toBe('self_approval');
    expect((await vote(id, t.tokens.bob!)).body.action).toMatchObject({ status: 'pending', progress: { filled: 1, needed: 2 } });
  });

  it('with ownerMayApprove the owner may approve; renamed and handed over, the old owner may still not override the refusal', async () => {
    // The owner may approve where the rule says so (after someone else lifts the freeze).
    const first = await t.api('POST', '/v1/actions', { token: t.tokens['deploy-bot'], body: { action: { type: 'data.wipe', resource: 'tmp-1' } } });
    expect(first.body).toMatchObject({ status: 'refused', overridable: { roles: ['sre-lead'] } });
    expect((await t.api('POST', `/v1/actions/${first.body.id}/override`, { token: t.tokens.alice!, body: { reason: 'cleanup' } })).body.status).toBe('pending');
    expect((await vote(first.body.id, t.tokens.erin!)).body.code).toBe('not_eligible'); // erin is no security approver: eligible by owner rules, not by role
    // The owner never lifts the refusal of her own agent's request, renamed and handed over or not.
    const second = await t.api('POST', '/v1/actions', { token: t.tokens['deploy-bot'], body: { action: { type: 'data.wipe', resource: 'tmp-2' } } });
    expect((await t.api('POST', `/v1/actions/${second.body.id}/override`, { token: t.tokens.erin!, body: { reason: 'mine' } })).body.code).toBe('self_approval');
    await setDirectory(t, renamed(ERIN, 'erin', 'erin.ross').replace(DEPLOY_BOT, DEPLOY_BOT.replace('owner: erin', 'owner: ivan')));
    const renamedOwner = await t.api('POST', `/v1/actions/${second.body.id}/override`, { token: await keyFor('erin.ross'), body: { reason: 'mine, renamed' } });
    expect(renamedOwner.status, renamedOwner.text).toBe(403);
    expect(renamedOwner.body.code).toBe('self_approval');
  });
});

describe('an override lifts a refusal, not the approvals still required', () => {
  it('the overrider may not approve the escalation; someone else may', async () => {
    const refused = await t.api('POST', '/v1/actions', { token: t.tokens['deploy-bot'], body: { action: { type: 'data.purge', resource: 'customers' } } });
    expect(refused.body).toMatchObject({ status: 'refused', overridable: { roles: ['security'] } });
    const id = refused.body.id as string;
    const overridden = await t.api('POST', `/v1/actions/${id}/override`, { token: t.tokens.bob, body: { reason: 'needed today' } });
    expect(overridden.body).toMatchObject({ status: 'pending', override: { by: 'bob' } });

    const self = await vote(id, t.tokens.bob!);
    expect(self.status, self.text).toBe(403);
    expect(self.body).toMatchObject({ code: 'self_approval' });
    expect(self.body.detail).toMatch(/overrode/);

    const judy = await vote(id, t.tokens.judy!);
    expect(judy.status, judy.text).toBe(201);
    expect(judy.body.action).toMatchObject({ status: 'approved', decidedBy: 'judy', override: { by: 'bob' } });
  });

  it('the overrider, renamed after the override, still may not approve it under the new id', async () => {
    const refused = await t.api('POST', '/v1/actions', { token: t.tokens['deploy-bot'], body: { action: { type: 'data.purge', resource: 'orders' } } });
    const id = refused.body.id as string;
    expect((await t.api('POST', `/v1/actions/${id}/override`, { token: t.tokens.bob, body: { reason: 'needed today' } })).body.status).toBe('pending');
    await setDirectory(t, renamed(BOB, 'bob', 'bob.okafor'));
    const self = await vote(id, await keyFor('bob.okafor'));
    expect(self.status, self.text).toBe(403);
    expect(self.body).toMatchObject({ code: 'self_approval' });
    expect((await vote(id, t.tokens.judy!)).body.action).toMatchObject({ status: 'approved', decidedBy: 'judy' });
  });

  it("a requester renamed since the refusal may not override it (her own request's refusal)", async () => {
    const policyOverride = await t.api('POST', '/v1/actions', { token: t.tokens.judy!, body: { action: { type: 'data.purge', resource: 'invoices' } } });
    expect(policyOverride.body).toMatchObject({ status: 'refused', overridable: { roles: ['security'] } });
    const id = policyOverride.body.id as string;
    expect((await t.api('POST', `/v1/actions/${id}/override`, { token: t.tokens.judy!, body: { reason: 'mine' } })).body.code).toBe('self_approval');
    await setDirectory(t, renamed(JUDY, 'judy', 'judy.kim'));
    const renamedOverride = await t.api('POST', `/v1/actions/${id}/override`, { token: await keyFor('judy.kim'), body: { reason: 'mine, renamed' } });
    expect(renamedOverride.status, renamedOverride.text).toBe(403);
    expect(renamedOverride.body.code).toBe('self_approval');
    expect((await t.api('GET', `/v1/actions/${id}`, { token: t.tokens.bob! })).body.status).toBe('refused');
  });
});
