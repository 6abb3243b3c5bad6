import { describe, expect, it } from 'vitest';
import { channelModule, waitFor } from './fakes/fake-channel.ts';
import { escalate, queueIntents, queueTestsPerCase, type QueueTest } from './fakes/queue-harness.ts';
import { ScriptedChannel } from './fakes/scripted-channel.ts';

// A card or a requester DM whose post was accepted by the chat service but whose answer was
// lost (a timeout, a 5xx) is not sent twice: the claim stays ambiguous, and the retry looks
// for the message by its card id before sending again. And the requester's DM is paced with
// the cards DM'd to the same person: one conversation, one pace.

const startQueue = queueTestsPerCase();
const start = (channel: ScriptedChannel, env: Record<string, string> = {}) => startQueue({ modules: [channelModule(channel)], env });


const rows = (t: QueueTest, id: string) => t.prisma.channelCard.findMany({ where: { actionId: id }, orderBy: { target: 'asc' } });

describe('queue engine: sending once', () => {
  it('a card accepted but unconfirmed is found by its card id on the retry, not posted again', async () => {
    const slack = new ScriptedChannel('slack');
    slack.loseAnswers = 1;
    const t = await start(slack);
    const id = await escalate(t);
    await waitFor('both rows posted', async () => (await rows(t, id)).every((r) => r.state === 'posted') && (await rows(t, id)).length === 2, 15_000);

    expect(slack.eventsOf('post')).toHaveLength(2);
    expect(slack.live(id)).toHaveLength(2);
    const lost = slack.eventsOf('post')[0]!;
    const finds = slack.eventsOf('find');
    expect(finds.map((f) => [f.target, f.messageId])).toEqual([[lost.target, lost.messageId]]);
    const row = (await rows(t, id)).find((r) => r.target === lost.target)!;
    expect(row.messageRef).toEqual({ target: lost.target, messageId: lost.messageId });
    expect(slack.messages.get(lost.messageId!)!.cardId).toBe(row.id);
    // The adopted card is re-rendered from the current state, and later votes reach it.
    await t.api('POST', `/v1/actions/${id}/votes`, { token: t.tokens.alice, body: { decision: 'approve', reason: 'ok' } });
    await waitFor('vote on the adopted card', () => slack.messages.get(lost.messageId!)!.card.requirement?.filled === 1, 10_000);
  });

  it("the requester's DM accepted but unconfirmed is found on the retry: told once", async () => {
    const slack = new ScriptedChannel('slack');
    const t = await start(slack);
    const id = await escalate(t);
    await waitFor('cards', () => slack.live(id).length === 2);
    slack.loseAnswers = 1;
    expect((await t.api('POST', `/v1/actions/${id}/cancel`, { token: t.tokens['deploy-bot'], body: { reason: 'not needed' } })).status).toBe(200);
    const notice = await waitFor('notice row sent', async () => (await rows(t, id)).find((r) => r.target.startsWith('notice/') && r.state === 'sent'), 15_000);
    expect(notice.target).toBe('notice/cancelled/erin');
    expect(slack.live(id, 'notice')).toHaveLength(1);
    expect(slack.live(id, 'notice')[0]!.cardId).toBe(notice.id);
    expect(slack.eventsOf('find').map((f) => f.target)).toEqual(['@erin']);
  });

  it("paces the requester's DM with the card DM'd to the same person (one conversation)", async () => {
    const slack = new ScriptedChannel('slack');
    const t = await start(slack, { COUNTERSIGN_CHANNEL_PACING_MS: 'slack=1500,teams=0' });
    // bob asks, and the rule also asks bob (by DM): the card and the outcome share his DM.
    const id = await escalate(t, queueIntents.cards, 'bob');
    const card = await waitFor("bob's card", () => slack.eventsOf('post').find((e) => e.target === '@bob'));
    expect((await t.api('POST', `/v1/actions/${id}/cancel`, { token: t.tokens.bob, body: { reason: 'not needed' } })).status).toBe(200);
    const notice = await waitFor('notice to bob', () => slack.eventsOf('notify').find((e) => e.target === '@bob'), 10_000);
    expect(notice.end - card.end).toBeGreaterThanOrEqual(1_400);
  });
});
