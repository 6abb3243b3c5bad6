import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCardModel, type ApprovalChannel } from '@countersign/core';
import { slackModule, type SlackCardRef } from '@countersign/slack';
import { FakeSlack } from './fakes/slack-api.ts';
import { blockActionPayload, formBody, malformedInteractions, postSigned, viewSubmissionPayload, type Clicker } from './fakes/slack-interactions.ts';
import { intents, startTestService, type TestService } from './support/service.ts';

// Socket Mode end to end: real Bolt (its SocketModeReceiver and @slack/socket-mode client)
// opens the connection through the fake's apps.connections.open with the app-level token,
// the fake sends interactive envelopes over the WebSocket and reads the acks. The same
// listeners and checks run as over HTTP; there is no /slack/events route.

const TEAM = 'T0TEAM0001';
const CHANNEL = 'C0APPROVE1';
const alice: Clicker = { id: 'U0ALICE01', teamId: TEAM }; // sre-lead
const bob: Clicker = { id: 'U0BOB0001', teamId: TEAM }; // security

let fake: FakeSlack;
let t: TestService;
let slack: ApprovalChannel;
/** Every line the service logs (JSON), to check what a refusal tells. */
const logLines: string[] = [];

function env(appToken: string): Record<string, string> {
  // No signing secret: nothing is POSTed to the service in Socket Mode.
  return { SLACK_BOT_TOKEN: fake.token, SLACK_TEAM_ID: TEAM, SLACK_API_URL: fake.url, SLACK_SOCKET_MODE: '1', SLACK_APP_TOKEN: appToken };
}

beforeAll(async () => {
  fake = await FakeSlack.start({
    teamId: TEAM,
    channels: [{ id: CHANNEL, name: 'prod-approvals' }],
    users: [
      { id: alice.id, team_id: TEAM, email: 'alice@example.com', is_email_confirmed: true },
      { id: bob.id, team_id: TEAM, email: 'bob@example.com', is_email_confirmed: true },
    ],
  });
  const logger = pino({ level: 'info' }, { write: (line: string) => void logLines.push(line) });
  t = await startTestService({ modules: [slackModule], env: env(fake.appToken), logger });
  slack = t.service.context.channels.get('slack')!;
});
afterAll(async () => {
  await t?.stop();
  await fake?.close();
});

const votes = (id: string) => t.service.context.store.votesFor(id);
const ephemeralsTo = (who: Clicker) => fake.okCallsTo('chat.postEphemeral').filter((c) => c.args.user === who.id);

async function escalateWithCard(by = 'deploy-bot'): Promise<{ id: string; ref: SlackCardRef }> {
  const res = await t.api('POST', '/v1/actions', { token: t.tokens[by]!, body: intents.prodDelete });
  expect(res.body.status).toBe('pending');
  const id = res.body.id as string;
  const store = t.service.context.store;
  const model = buildCardModel((await store.findAction(id))!, await store.votesFor(id), t.service.context.config.current().directory);
  return { id, ref: (await slack.postCard(model, { target: CHANNEL })) as SlackCardRef };
}

function clickEnvelope(who: Clicker, decision: 'approve' | 'deny', card: { id: string; ref: SlackCardRef }) {
  return blockActionPayload({ user: who, decision, actionId: card.id, channel: card.ref.channel, messageTs: card.ref.ts });
}

describe('Slack Socket Mode', () => {
  it('opens the connection with the app-level token at start; no /slack/events route', async () => {
    expect(fake.sockets.length).toBe(1);
    const opens = fake.callsTo('apps.connections.open');
    expect(opens.at(-1)!.response).toMatchObject({ ok: true });
    const res = await postSigned(t.url, 'any-secret-at-all', formBody({}));
    expect(res.status).toBe(404);
  });

  it('an approve click over the socket is acked within 3 s and recorded as a vote', async () => {
    const card = await escalateWithCard();
    const ack = await fake.sendEnvelope('interactive', clickEnvelope(alice, 'approve', card));
    expect(ack.afterMs).toBeLessThan(3000);
    await fake.waitFor(async () => (await votes(card.id)).length === 1, 15_000, 'vote recorded');
    expect((await votes(card.id))[0]).toMatchObject({ personId: 'alice', channel: 'slack', decision: 'approve' });
  });

  it("a refused click (the requester's own) is acked, answered with an ephemeral, and records nothing", async () => {
    const card = await escalateWithCard('alice');
    const before = ephemeralsTo(alice).length;
    const ack = await fake.sendEnvelope('interactive', clickEnvelope(alice, 'approve', card));
    expect(ack.afterMs).toBeLessThan(3000);
    const calls = await fake.waitFor(() => ephemeralsTo(alice).length > before && ephemeralsTo(alice), 15_000, 'ephemeral');
    expect(String(calls[before]!.args.text)).toContain('You requested this action; someone else must decide it.');
    expect(calls[before]!.args.channel).toBe(CHANNEL);
    expect(await votes(card.id)).toEqual([]);
  });

  it('a foreign user in a shared channel is refused over the socket too', async () => {
    const card = await escalateWithCard();
    const guest: Clicker = { id: alice.id, teamId: 'T0OTHER01' };
    const before = ephemeralsTo(guest).length;
    await fake.sendEnvelope('interactive', blockActionPayload({ user: guest, teamId: TEAM, decision: 'approve', actionId: card.id, channel: CHANNEL, messageTs: card.ref.ts }));
    const calls = await fake.waitFor(() => ephemeralsTo(guest).length > before && ephemeralsTo(guest), 15_000, 'ephemeral');
    expect(String(calls[before]!.args.text)).toMatch(/Only people of the organisation/);
    expect(await votes(card.id)).toEqual([]);
  });

  it('deny: the modal opens, an empty reason is answered in the ack, a reason refuses the action', async () => {
    const card = await escalateWithCard();
    const opened = fake.okCallsTo('views.open').length;
    await fake.sendEnvelope('interactive', clickEnvelope(bob, 'deny', card));
    const call = await fake.waitFor(() => fake.okCallsTo('views.open')[opened], 15_000, 'views.open');
    const privateMetadata = (call.args.view as { private_metadata: string }).private_metadata;

    const empty = await fake.sendEnvelope('interactive', viewSubmissionPayload({ user: bob, privateMetadata, reason: ' ' }));
    expect(empty.payload).toEqual({ response_action: 'errors', errors: { reason: 'A reason is required.' } });
    expect(await votes(card.id)).toEqual([]);

    await fake.sendEnvelope('interactive', viewSubmissionPayload({ user: bob, privateMetadata, reason: 'not during the freeze' }));
    await fake.waitFor(async () => (await t.service.context.store.findAction(card.id))?.status === 'refused', 15_000, 'refused');
    expect((await votes(card.id))[0]).toMatchObject({ personId: 'bob', decision: 'deny', reason: 'not during the freeze' });
  });

  it('malformed interactive envelopes are acked, logged by field only, and never reach a listener; a good click after them votes', async () => {
    const card = await escalateWithCard();
    // Stands for what a payload carries of the intent (the clicked card's text): never logged.
    const MARKER = 'SECRET-INTENT-DETAIL-7f3a';
    const withMarker = (payload: Record<string, unknown>) => ({ ...payload, message: { type: 'message', ts: card.ref.ts, text: MARKER } });
    const shapes = malformedInteractions({ user: alice, actionId: card.id, channel: CHANNEL, messageTs: card.ref.ts });
    const cases: { name: string; envelope: string; payload: unknown; field: string }[] = [
      // The list signed HTTP payloads are refused with (modules/slack/test/slack-bad-payloads.test.ts).
      ...shapes.map(({ name, payload, field }) => ({ name, envelope: 'interactive', payload: withMarker(payload), field })),
      { name: 'a payload that is null', envelope: 'interactive', payload: null, field: 'payload' },
      { name: 'a payload that is a list', envelope: 'interactive', payload: [withMarker(clickEnvelope(alice, 'approve', card))], field: 'payload' },
      { name: 'a payload that is a string', envelope: 'interactive', payload: MARKER, field: 'payload' },
      // Bolt takes a payload with actions (and no command) for a click whatever envelope brought it:
      // a click comes in an interactive envelope or not at all.
      { name: 'a slash_commands envelope carrying a click', envelope: 'slash_commands', payload: withMarker(clickEnvelope(alice, 'approve', card)), field: 'envelope.type' },
    ];
    const callsBefore = fake.calls.length;
    const linesBefore = logLines.length;
    const acks = await Promise.all(
      cases.map(async ({ name, envelope, payload }) => {
        const ack = await fake.sendEnvelope(envelope, payload as Record<string, unknown>).catch((err: Error) => ({ payload: err.message }));
        return { name, payload: ack.payload };
      }),
    );
    // Each acked with nothing: Slack does not send it again, and no modal answer is given.
    expect.soft(acks).toEqual(cases.map(({ name }) => ({ name, payload: {} })));
    await new Promise((r) => setTimeout(r, 300));
    // No listener ran: nothing asked of Slack (users.info, an ephemeral, a modal), no vote.
    expect.soft(fake.calls.slice(callsBefore).map((c) => c.method)).toEqual([]);
    expect.soft(await votes(card.id)).toEqual([]);

    const lines = logLines.slice(linesBefore).map((l) => JSON.parse(l) as Record<string, unknown>);
    const refusals = lines.filter((l) => l.msg === 'Slack envelope refused: malformed interaction payload');
    expect(refusals.map((l) => `${l.level} ${l.field}`).sort()).toEqual(cases.map(({ field }) => `40 ${field}`).sort());
    for (const line of refusals) {
      // The field at fault and what is wrong with it; nothing of the payload.
      expect(Object.keys(line).sort()).toEqual(['field', 'hostname', 'level', 'module', 'msg', 'pid', 'problem', 'receiver', 'time']);
    }
    const text = logLines.slice(linesBefore).join('');
    expect(text).not.toContain(MARKER);
    expect(text).not.toContain(card.id);
    expect(text).not.toContain(alice.id);
    // Nothing failed in a listener (no error-level lines: no TypeError from a missing field).
    expect(lines.filter((l) => (l.level as number) >= 50)).toEqual([]);

    // The connection and the listeners work as before: a well-formed click on the same card votes.
    const ack = await fake.sendEnvelope('interactive', clickEnvelope(alice, 'approve', card));
    expect(ack.afterMs).toBeLessThan(3000);
    await fake.waitFor(async () => (await votes(card.id)).length === 1, 15_000, 'vote recorded');
    expect((await votes(card.id))[0]).toMatchObject({ personId: 'alice', channel: 'slack', decision: 'approve' });
  });

  it('other envelopes pass to Bolt as before: an Events API event is acked, nothing refused', async () => {
    const linesBefore = logLines.length;
    const event = { type: 'app_mention', user: bob.id, text: 'hello', channel: CHANNEL, ts: '1700000000.000100', event_ts: '1700000000.000100' };
    const ack = await fake.sendEnvelope('events_api', { type: 'event_callback', team_id: TEAM, api_app_id: 'A0APP00001', event, event_id: 'Ev0000001', event_time: 1700000000 });
    expect(ack.afterMs).toBeLessThan(3000);
    expect(logLines.slice(linesBefore).filter((l) => l.includes('malformed'))).toEqual([]);
  });

  it("a well-formed interaction that is not countersign's (another button of the app) is acked with nothing and records nothing", async () => {
    // Unacked, Slack sends the envelope again and shows the clicker a warning.
    const card = await escalateWithCard();
    const foreign = blockActionPayload({ user: bob, decision: 'approve', actionId: card.id, channel: CHANNEL, messageTs: card.ref.ts, button: 'another-feature:open' });
    const ack = await fake.sendEnvelope('interactive', foreign);
    expect(ack.afterMs).toBeLessThan(3000);
    expect(ack.payload ?? {}).toEqual({});
    expect(await votes(card.id)).toEqual([]);
    // Ours still vote after it.
    await fake.sendEnvelope('interactive', clickEnvelope(bob, 'approve', card));
    await fake.waitFor(async () => (await votes(card.id)).length === 1, 15_000, 'vote recorded');
  });

  it('an app-level token Slack refuses stops the service naming SLACK_APP_TOKEN', async () => {
    await expect(startTestService({ modules: [slackModule], env: env('xapp-1-A0-1-wrong') })).rejects.toThrow(/SLACK_APP_TOKEN refused by apps.connections.open \(invalid_auth\)/);
  });
});
