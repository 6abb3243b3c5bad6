import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { slackModule } from '@countersign/slack';
import { FakeSlack } from '../../../test/fakes/slack-api.ts';
import { blockActionPayload, click, formBody, malformedInteractions, postSigned, type Clicker } from '../../../test/fakes/slack-interactions.ts';
import { intents, startTestService, type TestService } from '../../../test/support/service.ts';

// Interaction payloads that carry a valid signature (so only Slack, or someone holding the
// signing secret, can send them) but not the shape of a click or of our reason modal: answered
// 400 with a problem naming the field, before Bolt or the engine sees them, and nothing is
// recorded or posted. Well-formed interactions are handled as before.

const SECRET = 'bad-payloads-signing-secret-0123';
const TEAM = 'T0TEAM0001';
const CHANNEL = 'C0BADPAYLD';
const alice: Clicker = { id: 'U0ALICE01', teamId: TEAM }; // sre-lead, mapped by Slack id

let fake: FakeSlack;
let t: TestService;

beforeAll(async () => {
  fake = await FakeSlack.start({
    teamId: TEAM,
    channels: [{ id: CHANNEL, name: 'bad-payloads' }],
    users: [{ id: alice.id, team_id: TEAM, email: 'alice@example.com', is_email_confirmed: true }],
  });
  t = await startTestService({
    modules: [slackModule],
    env: { SLACK_BOT_TOKEN: fake.token, SLACK_SIGNING_SECRET: SECRET, SLACK_TEAM_ID: TEAM, SLACK_API_URL: fake.url },
  });
}, 60_000);
afterAll(async () => {
  await t?.stop();
  await fake?.close();
});

async function escalate(): Promise<string> {
  const res = await t.api('POST', '/v1/actions', { token: t.tokens['deploy-bot']!, body: intents.prodDelete });
  expect(res.body.status).toBe('pending');
  return res.body.id as string;
}
const votes = async (id: string) => (await t.service.context.store.votesFor(id)).length;

describe('signed interaction payloads of the wrong shape', () => {
  it('get a 400 problem naming the field; nothing is voted, posted or echoed', async () => {
    const id = await escalate();
    const base = blockActionPayload({ user: alice, decision: 'approve', actionId: id, channel: CHANNEL, messageTs: '1700000000.000001' });
    const shapes = malformedInteractions({ user: alice, actionId: id, channel: CHANNEL, messageTs: '1700000000.000001' });

    const cases: [name: string, body: string, field: string, contentType?: string][] = [
      ['payload sent twice', `${formBody(base)}&${formBody(base)}`, 'payload'],
      ['no payload field', 'foo=bar', 'payload'],
      ['an empty form', '', 'payload'],
      // The same list Socket Mode refuses (test/slack-socket-mode.test.ts).
      ...shapes.map(({ name, payload, field }): [string, string, string] => [name, formBody(payload), field]),
      // Bolt takes a JSON body with actions for a click as readily as a form payload.
      ['a JSON body with actions and no user', JSON.stringify({ ...base, user: undefined }), 'payload.user.id', 'application/json'],
      ['a JSON body with actions that is not block_actions', JSON.stringify({ ...base, type: 'event_callback' }), 'payload.type', 'application/json'],
    ];
    const callsBefore = fake.calls.length;
    const answers: { name: string; status: number; code?: string; field?: string }[] = [];
    for (const [name, body, , contentType] of cases) {
      const res = await postSigned(t.url, SECRET, body, contentType ? { contentType } : {});
      expect(res.text.length, name).toBeLessThan(1000);
      const problem = res.status === 400 ? (JSON.parse(res.text) as { code: string; errors?: { field: string }[] }) : undefined;
      answers.push({ name, status: res.status, ...(problem ? { code: problem.code, field: problem.errors?.[0]?.field } : {}) });
    }
    expect(answers).toEqual(cases.map(([name, , field]) => ({ name, status: 400, code: 'invalid_request', field })));
    // Nothing reached Slack (no ephemeral echoing the payload) or the engine.
    await new Promise((r) => setTimeout(r, 300));
    expect(fake.calls.slice(callsBefore)).toEqual([]);
    expect(await votes(id)).toBe(0);
  });

  it('well-formed interactions are handled as before: the SSL check, a button not ours (unhandled), a click', async () => {
    const id = await escalate();
    const base = blockActionPayload({ user: alice, decision: 'approve', actionId: id, channel: CHANNEL, messageTs: '1700000000.000002' });
    expect((await postSigned(t.url, SECRET, 'ssl_check=1&token=legacy')).status).toBe(200);
    const foreign = formBody({ ...base, actions: [{ ...(base.actions as Record<string, unknown>[])[0], action_id: 'some-other-app:thing' }] });
    expect((await postSigned(t.url, SECRET, foreign)).status).toBe(404);

    const res = await click(t.url, SECRET, { user: alice, decision: 'approve', actionId: id, channel: CHANNEL, messageTs: '1700000000.000002' });
    expect(res.status).toBe(200);
    await fake.waitFor(async () => (await votes(id)) === 1, 15_000, 'the vote');
  });
});
