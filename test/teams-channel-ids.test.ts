import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { teamsModule } from '@countersign/teams';
import { workerModule } from '@countersign/worker';
import { FakeBotFramework, teamsDirectoryYaml, teamsUsers, type FakeTeam } from './fakes/bot-connector.ts';
import { randomQueuePrefix } from './support/database.ts';
import { startTestService, type TestService } from './support/service.ts';

// A rule names Teams places by id, never by display name: anyone in the tenant can create a
// team called "Finance", and a card there would show the intent to people who should not see
// it. Two installed teams share the name; only the one the rule's id names gets the card, and
// a policy naming a team by name does not load.

const REAL: FakeTeam = {
  id: '19:finance-real@thread.tacv2',
  name: 'Finance',
  channels: [{ id: '19:finance-real@thread.tacv2' }, { id: '19:finance-real-approvals@thread.tacv2', name: 'Approvals' }],
};
/** Made by someone else in the tenant, named alike, the bot added to it. */
const LOOKALIKE: FakeTeam = {
  id: '19:finance-lookalike@thread.tacv2',
  name: 'Finance',
  channels: [{ id: '19:finance-lookalike@thread.tacv2' }, { id: '19:finance-lookalike-approvals@thread.tacv2', name: 'Approvals' }],
};
const REAL_APPROVALS = '19:finance-real-approvals@thread.tacv2';

const rules = (places: string) => `
  - id: finance-wire
    when: 'action.type == "finance.wire"'
    outcome: escalate
    reason: wires are asked in Finance
    requirement:
      approvers: [{ role: finance-approver, count: 1 }]
      expiresIn: 30m
      channels:
        teams: [${places}]
`;
const fixture = () => fs.readFileSync(path.resolve(import.meta.dirname, 'fixtures', 'policy.yaml'), 'utf8').trimEnd();

let fake: FakeBotFramework;
let t: TestService;

beforeAll(async () => {
  fake = await FakeBotFramework.start();
  for (const u of Object.values(teamsUsers)) fake.users.set(u.id, u);
  t = await startTestService({
    policy: `${fixture()}\n${rules(`'${REAL.id}/${REAL_APPROVALS}', '${REAL.id}'`)}`,
    directory: await teamsDirectoryYaml(),
    modules: [teamsModule, workerModule],
    env: {
      ...fake.env(),
      COUNTERSIGN_QUEUE_PREFIX: randomQueuePrefix(),
      COUNTERSIGN_OUTBOX_POLL_MS: '250',
      COUNTERSIGN_SWEEP_SECONDS: '3600',
      COUNTERSIGN_CHANNEL_PACING_MS: 'teams=0',
    },
  });
  // The look-alike is installed first: a name match would find it as readily as the real one.
  for (const team of [LOOKALIKE, REAL]) expect((await fake.send(t.url, fake.installInTeam(team, teamsUsers.alice))).status).toBe(200);
});
afterAll(async () => {
  await t?.stop();
  await fake?.close();
});

async function waitFor<T>(check: () => Promise<T | undefined | null | false>, what: string, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('Teams places are ids', () => {
  it('of two teams named "Finance", only the one whose id the rule names receives the card', async () => {
    const stored = await t.prisma.teamsConversation.findMany({ where: { teamName: 'Finance' } });
    expect(new Set(stored.map((r) => r.teamId))).toEqual(new Set([REAL.id, LOOKALIKE.id]));

    const res = await t.api('POST', '/v1/actions', { token: t.tokens['deploy-bot']!, body: { action: { type: 'finance.wire', resource: 'vendor/acme', summary: 'Wire ACME' } } });
    expect(res.body.status, res.text).toBe('pending');
    const id = res.body.id as string;

    // Every card the queue means to post for this action, once all of them are posted.
    const rows = await waitFor(async () => {
      const cards = (await t.service.context.db.cards.forAction(id)).filter((c) => c.channel === 'teams');
      return cards.length === 2 && cards.every((c) => c.state === 'posted') && cards;
    }, 'both Teams cards posted');
    expect(rows.map((r) => r.target).sort()).toEqual([REAL.id, REAL_APPROVALS].sort());

    const posted = fake.posts.filter((p) => p.replyToId === null && JSON.stringify(p.activity).includes(id));
    expect(posted.map((p) => p.conversationId).sort()).toEqual([REAL.id, REAL_APPROVALS].sort());
    const lookalike = new Set(LOOKALIKE.channels.map((c) => c.id));
    expect(fake.posts.filter((p) => lookalike.has(p.conversationId.split(';')[0]!))).toEqual([]);
  });

  it('a policy naming a Teams team or channel by display name is refused at load, saying to use ids', async () => {
    for (const places of ['Finance', "'Finance/Approvals'"]) {
      const started = startTestService({ policy: `${fixture()}\n${rules(places)}`, directory: await teamsDirectoryYaml(), modules: [teamsModule], env: fake.env() });
      await expect(started).rejects.toThrow(/channels\.teams\[0\]: "Finance(\/Approvals)?" is not a Teams id\. Teams places are ids, never display names/);
    }
  });
});
