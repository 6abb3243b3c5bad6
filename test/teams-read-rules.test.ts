import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { buildCardModel, type ApprovalChannel } from '@countersign/core';
import { teamsModule, type TeamsCardRef } from '@countersign/teams';
import { validateAdaptiveCard } from '../modules/teams/test/validate-card.ts';
import { FakeBotFramework, teamsDirectoryYaml, teamsUsers, type FakeTeam, type TeamsUser } from './fakes/bot-connector.ts';
import { startTestService, type TestService } from './support/service.ts';

// A Teams card is the whole action (amount, IBAN, justification, votes), and anyone in the
// tenant can send an Action.Execute or a refresh naming any action id. The card goes only to
// someone the HTTP API lets read that action (GET /v1/actions/:id answers them 200); everyone
// else gets a card that says nothing about it. Real botbuilder behind POST /api/messages, real
// Bot Framework JWTs from the local fake issuer, as in test/teams-approvals.test.ts.

const PLATFORM: FakeTeam = {
  id: '19:general-platform@thread.tacv2',
  name: 'Platform',
  channels: [{ id: '19:general-platform@thread.tacv2' }, { id: '19:approvals@thread.tacv2', name: 'Approvals' }],
};
const APPROVALS = '19:approvals@thread.tacv2';
const { alice, bob, erin, grace, stranger } = teamsUsers;
/** finance-approver, pinned by Teams id: decides wires. */
const frank: TeamsUser = { id: '29:frank', name: 'Frank', aadObjectId: '6f1c2a3e-1b2d-4c5e-8f90-0a1b2c3d4e06', email: 'frank@example.com' };
/** In the tenant, in no roster and no directory. */
const ghost: TeamsUser = { id: '29:ghost', name: 'Ghost', aadObjectId: '6f1c2a3e-1b2d-4c5e-8f90-0a1b2c3d4e77' };

const RULES = `
  - id: wire-review
    when: 'action.type == "payment.wire"'
    outcome: escalate
    reason: a wire needs finance and an SRE lead
    requirement:
      approvers: [{ role: finance-approver, count: 1 }, { role: sre-lead, count: 1 }]
      expiresIn: 30m
`;

/** What the action says and nobody but its readers may see. */
const SECRETS = {
  amount: '48213.77',
  iban: 'DE89370400440532013000',
  justification: 'Quarterly settlement owed to Zebulon Freight',
  summary: 'Pay Zebulon invoice 7741',
  resource: 'vendor/zebulon-freight',
  type: 'payment.wire',
  voter: 'Alice',
};
const wire = {
  action: { type: SECRETS.type, resource: SECRETS.resource, summary: SECRETS.summary, params: { amount: SECRETS.amount, iban: SECRETS.iban, currency: 'EUR' } },
  justification: SECRETS.justification,
};

let fake: FakeBotFramework;
let t: TestService;
let teams: ApprovalChannel;
let id: string;
let ref: TeamsCardRef;

beforeAll(async () => {
  fake = await FakeBotFramework.start();
  for (const u of [...Object.values(teamsUsers), frank, ghost]) fake.users.set(u.id, u);
  const directory = parse(await teamsDirectoryYaml()) as { people: { id: string; teams?: { aadObjectId: string } }[] };
  directory.people.find((p) => p.id === 'frank')!.teams = { aadObjectId: frank.aadObjectId };
  const fixture = fs.readFileSync(path.resolve(import.meta.dirname, 'fixtures', 'policy.yaml'), 'utf8');
  t = await startTestService({ modules: [teamsModule], env: fake.env(), directory: stringify(directory), policy: `${fixture.trimEnd()}\n${RULES}` });
  teams = t.service.context.channels.get('teams')!;
  expect((await fake.send(t.url, fake.installInTeam(PLATFORM, alice))).status).toBe(200);

  const res = await t.api('POST', '/v1/actions', { token: t.tokens['deploy-bot']!, body: wire });
  expect(res.body.status, res.text).toBe('pending');
  id = res.body.id as string;
  const store = t.service.context.store;
  const model = buildCardModel((await store.findAction(id))!, await store.votesFor(id), t.service.context.config.current().directory);
  ref = (await teams.postCard(model, { target: APPROVALS })) as unknown as TeamsCardRef;
  // Alice (sre-lead) approves first, so the card carries a vote (and its voter) to hide too.
  const first = await send(alice, 'approve');
  expect(JSON.stringify(first.body)).toContain('Your approval is recorded');
});
afterAll(async () => {
  await t?.stop();
  await fake?.close();
});

function send(user: TeamsUser, verb: string, data: Record<string, unknown> = {}, actionId = id) {
  return fake.send(t.url, fake.invoke(user, { conversationId: ref.conversationId, activityId: ref.activityId, kind: 'channel' }, verb, { actionId, ...data }));
}

type CardJson = { body: Record<string, unknown>[]; actions?: unknown[]; refresh?: unknown };

/** The Adaptive Card answered to the invoke (status 200, seen by that user alone). */
function answered(res: { status: number; body: any }): CardJson {
  expect(res.status).toBe(200);
  expect(res.body).toMatchObject({ statusCode: 200, type: 'application/vnd.microsoft.card.adaptive' });
  expect(validateAdaptiveCard(res.body.value)).toEqual([]);
  return res.body.value as CardJson;
}

/** The whole response body says nothing about the action. */
function expectNothingShown(res: { status: number; body: any }): CardJson {
  const card = answered(res);
  const everything = JSON.stringify(res.body);
  for (const [what, value] of Object.entries(SECRETS)) expect(everything, what).not.toContain(value);
  expect(everything).not.toContain(id);
  expect(everything).toContain("You can't view this request");
  expect(card.actions).toBeUndefined();
  expect(card.refresh).toBeUndefined();
  return card;
}

function expectFullCard(res: { status: number; body: any }): CardJson {
  const card = answered(res);
  const everything = JSON.stringify(card);
  for (const value of [SECRETS.amount, SECRETS.iban, SECRETS.justification, SECRETS.summary, 'approved by Alice (alice)']) expect(everything).toContain(value);
  return card;
}

const voters = async () => (await t.service.context.store.votesFor(id)).map((v) => v.personId);
const apiRead = async (principal: string) => (await t.api('GET', `/v1/actions/${id}`, { token: t.tokens[principal]! })).status;

describe('Teams cards follow the read rules of the API', () => {
  it('a tenant member the API does not let read the action sees nothing of it, on refresh and on a refused click', async () => {
    // bob (security, pinned Teams id) is a reviewer elsewhere, but not a party to this wire.
    expect(await apiRead('bob')).toBe(404);
    expectNothingShown(await send(bob, 'refresh'));
    const approve = expectNothingShown(await send(bob, 'approve'));
    expect(JSON.stringify(approve.body[0])).toContain('Your click was not recorded');
    expectNothingShown(await send(bob, 'deny', { denyReason: 'not mine' }));
    expect(await voters()).toEqual(['alice']);
    expect((await t.service.context.store.findAction(id))!.status).toBe('pending');
  });

  it('a Teams user the directory does not know sees nothing, whatever the roster says', async () => {
    for (const user of [stranger, ghost]) {
      const refresh = expectNothingShown(await send(user, 'refresh'));
      expect(JSON.stringify(refresh.body[0])).toContain('You are not in the countersign directory');
      expectNothingShown(await send(user, 'approve'));
    }
    expect(await voters()).toEqual(['alice']);
  });

  it('an action id that does not exist is answered exactly as one the viewer may not read', async () => {
    for (const verb of ['refresh', 'approve']) {
      const unreadable = await send(bob, verb);
      const missing = await send(bob, verb, {}, 'act_doesnotexist000000000000');
      expect(missing.body).toEqual(unreadable.body);
    }
  });

  it('an allowed reviewer still gets the full card, on refresh and on a refused click', async () => {
    expect(await apiRead('frank')).toBe(200);
    const refreshed = expectFullCard(await send(frank, 'refresh'));
    expect(refreshed.actions).toHaveLength(2);
    // A deny without a reason is refused by the engine: frank sees why, on the full card.
    const refused = expectFullCard(await send(frank, 'deny'));
    expect(JSON.stringify(refused.body[0])).toContain('A deny needs a reason');
    expect(await voters()).toEqual(['alice']);
  });

  it('the other readers the API knows see it too: the agent owner (by roster UPN) and an auditor (by roster email)', async () => {
    for (const [user, principal] of [
      [erin, 'erin'],
      [grace, 'grace'],
    ] as const) {
      expect(await apiRead(principal)).toBe(200);
      expectFullCard(await send(user, 'refresh'));
    }
    // erin owns the requesting agent: her click is refused by the engine, shown on the full card.
    const owner = expectFullCard(await send(erin, 'approve'));
    expect(JSON.stringify(owner.body[0])).toContain('You own the agent that requested this action');
    expect(await voters()).toEqual(['alice']);
  });

  it('a reader who decides it gets the decided card', async () => {
    const decided = expectFullCard(await send(frank, 'approve'));
    expect(JSON.stringify(decided.body[0])).toContain('Your approval is recorded');
    expect((await t.service.context.store.findAction(id))!.status).toBe('approved');
    // Decided or not, a non-reader still sees nothing of it.
    expectNothingShown(await send(bob, 'refresh'));
  });
});
