import { describe, expect, it } from 'vitest';
import { RecordingChannel, waitFor } from './fakes/fake-channel.ts';
import { escalate, queueIntents, queueTestsPerCase, type QueueTest } from './fakes/queue-harness.ts';

// The queue-backed escalation engine end to end: real Postgres, Redis and BullMQ; recording
// chat channels. Escalation → cards; votes → cards updated; decision → cards + requester.

const start = queueTestsPerCase();


async function cardRows(t: QueueTest, actionId: string) {
  return t.service.context.db.cards.forAction(actionId);
}

describe('queue engine: cards', () => {
  it('posts one card per channel target of the first tier', async () => {
    const slack = new RecordingChannel('slack');
    const teams = new RecordingChannel('teams');
    const t = await start({ channels: [slack, teams] });
    const id = await escalate(t);

    await waitFor('four cards', async () => (await cardRows(t, id)).filter((c) => c.state === 'posted').length === 4);
    expect(slack.done('postCard', id).map((c) => c.target).sort()).toEqual(['#sre-approvals', '@bob']);
    expect(teams.done('postCard', id).map((c) => c.target).sort()).toEqual(['19:sre-team@thread.tacv2', '@bob']);
    const card = slack.done('postCard', id)[0]!.card!;
    expect(card).toMatchObject({ actionId: id, status: 'pending', actionable: true, title: 'Delete prod-eu-1' });
    expect(card.requirement).toMatchObject({ filled: 0, needed: 2 });
    const rows = await cardRows(t, id);
    expect(rows.every((r) => r.tier === 0 && r.messageRef !== null)).toBe(true);

    // Nothing else is posted later (the tier-1 timer is 15 minutes away).
    await new Promise((r) => setTimeout(r, 1_500));
    expect(slack.done('postCard', id)).toHaveLength(2);
    expect(teams.done('postCard', id)).toHaveLength(2);
  });

  it('updates every card after a vote, and on the decision shows the outcome and tells the requester once per channel', async () => {
    const slack = new RecordingChannel('slack');
    const teams = new RecordingChannel('teams');
    const t = await start({ channels: [slack, teams] });
    const id = await escalate(t);
    await waitFor('cards', async () => (await cardRows(t, id)).filter((c) => c.state === 'posted').length === 4);

    const vote = await t.api('POST', `/v1/actions/${id}/votes`, { token: t.tokens.alice, body: { decision: 'approve', reason: 'ok' } });
    expect(vote.status, vote.text).toBe(201);
    await waitFor('progress on every card', () => slack.done('updateCard', id).filter((c) => c.filled === 1).length === 2 && teams.done('updateCard', id).filter((c) => c.filled === 1).length === 2);
    expect(slack.done('updateCard', id).every((c) => c.status === 'pending' && c.actionable)).toBe(true);

    const second = await t.api('POST', `/v1/actions/${id}/votes`, { token: t.tokens.bob, body: { decision: 'approve', reason: 'fine' } });
    expect(second.status, second.text).toBe(201);
    await waitFor('outcome on every card', () =>
      [slack, teams].every((ch) => ch.done('updateCard', id).filter((c) => c.status === 'approved' && c.actionable === false).length === 2),
    );
    // The requester: deploy-bot acts for nobody, so its owner erin hears of it, in each channel once.
    await waitFor('requester told', () => slack.done('notifyPerson', id).length === 1 && teams.done('notifyPerson', id).length === 1);
    const notice = slack.done('notifyPerson', id)[0]!;
    expect(notice).toMatchObject({ personId: 'erin', status: 'approved' });
    expect(notice.text).toContain('Approved');

    // The last rendering of each card is the final state, whatever order the jobs ran in.
    for (const ch of [slack, teams]) {
      for (const target of new Set(ch.done('postCard', id).map((c) => c.target))) {
        const last = ch.done('updateCard', id).filter((c) => c.target === target).at(-1)!;
        expect(last.status).toBe('approved');
      }
    }
    await new Promise((r) => setTimeout(r, 1_000));
    expect(slack.done('notifyPerson', id)).toHaveLength(1);
    expect(slack.done('postCard', id)).toHaveLength(2);
    const notices = (await cardRows(t, id)).filter((r) => r.target.startsWith('notice/'));
    expect(notices.map((n) => `${n.channel} ${n.target} ${n.state}`).sort()).toEqual(['slack notice/approved/erin sent', 'teams notice/approved/erin sent']);
  });

  it('tells the person the agent acted for, and nobody for automatic decisions', async () => {
    const slack = new RecordingChannel('slack', { unreachable: [] });
    const t = await start({ channels: [slack] });
    const id = await escalate(t, { ...queueIntents.slack, onBehalfOf: 'ivan' });
    await waitFor('card', () => slack.done('postCard', id).length === 1);
    const deny = await t.api('POST', `/v1/actions/${id}/votes`, { token: t.tokens.alice, body: { decision: 'deny', reason: 'not today' } });
    expect(deny.status, deny.text).toBe(201);
    await waitFor('requester told', () => slack.done('notifyPerson', id).length === 1);
    expect(slack.done('notifyPerson', id)[0]).toMatchObject({ personId: 'ivan', status: 'refused' });
    await waitFor('card shows the refusal', () => slack.done('updateCard', id).some((c) => c.status === 'refused' && !c.actionable));

    const auto = await t.api('POST', '/v1/actions', { token: t.tokens['deploy-bot'], body: { action: { type: 'db.query' }, risk: { class: 'read' } } });
    expect(auto.body.status).toBe('approved');
    await new Promise((r) => setTimeout(r, 800));
    expect(slack.calls.filter((c) => c.actionId === auto.body.id)).toEqual([]);
  });

  it('records an unreachable requester without retrying', async () => {
    const slack = new RecordingChannel('slack', { unreachable: ['ivan'] });
    const t = await start({ channels: [slack] });
    const id = await escalate(t, { ...queueIntents.slack, onBehalfOf: 'ivan' });
    await waitFor('card', () => slack.done('postCard', id).length === 1);
    await t.api('POST', `/v1/actions/${id}/cancel`, { token: t.tokens['deploy-bot'] });
    await waitFor('notice recorded', async () => (await cardRows(t, id)).some((r) => r.target === 'notice/cancelled/ivan' && r.state === 'unreachable'));
    expect(slack.done('notifyPerson', id)).toEqual([]);
  });
});
