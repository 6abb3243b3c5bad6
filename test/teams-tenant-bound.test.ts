import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCardModel, type ApprovalChannel } from '@countersign/core';
import { teamsModule, type TeamsCardRef } from '@countersign/teams';
import { FakeBotFramework, teamsDirectoryYaml, teamsUsers, type FakeTeam, type TeamsUser } from './fakes/bot-connector.ts';
import { intents, startTestService, type TestService } from './support/service.ts';

// Teams stays inside the tenant and the directory: the roster's email/UPN fallback maps only
// the tenant's own members. A guest (B2B or anonymous) whose account carries a directory
// person's email is not that person, and its click never counts.

const PLATFORM: FakeTeam = {
  id: '19:general-platform@thread.tacv2',
  name: 'Platform',
  channels: [{ id: '19:general-platform@thread.tacv2' }, { id: '19:approvals@thread.tacv2', name: 'Approvals' }],
};
const APPROVALS = '19:approvals@thread.tacv2';
const { alice, carol } = teamsUsers;
/** A B2B guest whose home account uses carol's address (carol maps by roster email). */
const guestCarol: TeamsUser & { userRole: string } = { id: '29:guest-carol', name: 'Carol (Guest)', aadObjectId: '6f1c2a3e-1b2d-4c5e-8f90-0a1b2c3d4ec1', email: 'carol@example.com', userRole: 'guest' };
/** A guest the roster calls a user but whose UPN is a guest's (#EXT#). */
const extCarol: TeamsUser = { id: '29:ext-carol', name: 'Carol (External)', aadObjectId: '6f1c2a3e-1b2d-4c5e-8f90-0a1b2c3d4ec2', email: 'carol@example.com', userPrincipalName: 'carol_example.com#EXT#@contoso.onmicrosoft.com' };

let fake: FakeBotFramework;
let t: TestService;
let teams: ApprovalChannel;

beforeAll(async () => {
  fake = await FakeBotFramework.start();
  for (const u of [...Object.values(teamsUsers), guestCarol, extCarol]) fake.users.set(u.id, u);
  t = await startTestService({ modules: [teamsModule], env: fake.env(), directory: await teamsDirectoryYaml() });
  teams = t.service.context.channels.get('teams')!;
  expect((await fake.send(t.url, fake.installInTeam(PLATFORM, alice))).status).toBe(200);
});
afterAll(async () => {
  await t?.stop();
  await fake?.close();
});

async function postPending(): Promise<{ id: string; ref: TeamsCardRef }> {
  const res = await t.api('POST', '/v1/actions', { token: t.tokens['deploy-bot']!, body: intents.prodDelete });
  expect(res.body.status).toBe('pending');
  const id = res.body.id as string;
  const store = t.service.context.store;
  const model = buildCardModel((await store.findAction(id))!, await store.votesFor(id), t.service.context.config.current().directory);
  const ref = (await teams.postCard(model, { target: APPROVALS })) as unknown as TeamsCardRef;
  return { id, ref };
}

const click = (user: TeamsUser, card: { id: string; ref: TeamsCardRef }) =>
  fake.send(t.url, fake.invoke(user, { conversationId: card.ref.conversationId, activityId: card.ref.activityId, kind: 'channel' }, 'approve', { actionId: card.id }));

describe('Teams roster fallback refuses guests', () => {
  it("a guest carrying a directory person's email never votes as them; the member does", async () => {
    const card = await postPending();
    for (const guest of [guestCarol, extCarol]) {
      const res = await click(guest, card);
      expect(res.status).toBe(200);
      expect(JSON.stringify(res.body)).toContain('Guest accounts cannot decide here');
    }
    expect(await t.service.context.store.votesFor(card.id)).toEqual([]);

    // The same address on the tenant's own member maps as before: the refusal is the guest's.
    const res = await click(carol, card);
    expect(res.status).toBe(200);
    expect((await t.service.context.store.votesFor(card.id)).map((v) => v.personId)).toEqual(['carol']);
  });
});
