import { describe, expect, it } from 'vitest';
import { RecordingChannel, waitFor } from './fakes/fake-channel.ts';
import { deletePrefixKeys, escalate, queueIntents, queueTestsPerCase, type QueueTest } from './fakes/queue-harness.ts';

// Timers are delayed jobs computed from Postgres timestamps and the service clock: reminders,
// escalation tiers and expiry. The TestClock moves time; the sweeper runs what is due by it.

const start = queueTestsPerCase();

const MIN = 60_000;


async function status(t: QueueTest, id: string): Promise<string> {
  return (await t.api('GET', `/v1/actions/${id}`, { token: t.tokens['deploy-bot'] })).body.status;
}

describe('queue engine: timers', () => {
  it('expiry refuses the action when its time comes, updates every card and tells the requester', async () => {
    const slack = new RecordingChannel('slack');
    const teams = new RecordingChannel('teams');
    const t = await start({ channels: [slack, teams] });
    const id = await escalate(t);
    await waitFor('cards', () => slack.done('postCard', id).length === 2 && teams.done('postCard', id).length === 2);
    const expireJob = await waitFor('expire timer', () => t.engine().queues.find('expire', { actionId: id }));
    expect(await expireJob.getState()).toBe('delayed');
    // Scheduled for expiresAt (30 minutes), not earlier.
    expect(expireJob.delay).toBeGreaterThan(29 * MIN);

    t.clock.advance(29 * MIN);
    await new Promise((r) => setTimeout(r, 1_500));
    expect(await status(t, id)).toBe('pending');

    t.clock.advance(1 * MIN + 1_000);
    await waitFor('expired', async () => (await status(t, id)) === 'expired', 10_000);
    // Every card posted by then (the 15-minute tier fired on the way) ends up showing the expiry.
    await waitFor('cards show the expiry', () =>
      [slack, teams].every((ch) => {
        const targets = new Set(ch.done('postCard', id).map((c) => c.target));
        const expired = new Set(ch.done('updateCard', id).filter((c) => c.status === 'expired' && !c.actionable).map((c) => c.target));
        return targets.size >= 2 && [...targets].every((x) => expired.has(x));
      }),
    );
    await waitFor('requester told', () => slack.done('notifyPerson', id).length === 1 && teams.done('notifyPerson', id).length === 1);
    expect(slack.done('notifyPerson', id)[0]!.text).toMatch(/Expired/);
    // The artifact says expired, decided by the system.
    const res = await t.api('GET', `/v1/actions/${id}`, { token: t.tokens['deploy-bot'] });
    expect(res.body).toMatchObject({ status: 'expired', decidedBy: 'system' });
  });

  it('reminds next to every card at the rule’s times, then asks the next tier', async () => {
    const slack = new RecordingChannel('slack');
    const teams = new RecordingChannel('teams');
    const t = await start({ channels: [slack, teams] });
    const id = await escalate(t);
    await waitFor('cards', () => slack.done('postCard', id).length === 2 && teams.done('postCard', id).length === 2);
    await waitFor('timers', () => t.engine().queues.find('escalate-tier', { actionId: id, tier: 1 }));

    t.clock.advance(5 * MIN + 1_000);
    await waitFor('first reminder on every card', () => slack.done('remind', id).length === 2 && teams.done('remind', id).length === 2);
    expect(slack.done('remind', id)[0]!.text).toMatch(/still waiting for a decision.*0 of 2.*still needs sre-lead \+ security/);
    await new Promise((r) => setTimeout(r, 1_200));
    expect(slack.done('remind', id)).toHaveLength(2);
    expect(slack.done('postCard', id)).toHaveLength(2);

    t.clock.advance(5 * MIN);
    await waitFor('second reminder', () => slack.done('remind', id).length === 4);

    t.clock.advance(5 * MIN);
    await waitFor('tier 1 asked', () => slack.done('postCard', id).length === 4);
    expect(slack.done('postCard', id).slice(2).map((c) => c.target).sort()).toEqual(['#sre-secondary', '@judy']);
    // Teams has no channel hint for tier 1 but can DM judy.
    await waitFor('tier 1 in teams', () => teams.done('postCard', id).length === 3);
    const rows = await t.prisma.channelCard.findMany({ where: { actionId: id, tier: 1 } });
    expect(rows.map((r) => `${r.channel} ${r.target}`).sort()).toEqual(['slack #sre-secondary', 'slack @judy', 'teams @judy']);

    // A decision stops the remaining timers from doing anything.
    await t.api('POST', `/v1/actions/${id}/cancel`, { token: t.tokens['deploy-bot'] });
    await waitFor('cancelled on cards', () => slack.done('updateCard', id).filter((c) => c.status === 'cancelled').length === 4);
    t.clock.advance(30 * MIN);
    await new Promise((r) => setTimeout(r, 1_500));
    expect(slack.done('remind', id)).toHaveLength(4);
    expect(await status(t, id)).toBe('cancelled');
  });

  it("a decision takes the action's waiting timers out of Redis, and leaves another action's alone", async () => {
    const slack = new RecordingChannel('slack');
    const t = await start({ channels: [slack] });
    const decided = await escalate(t);
    const other = await escalate(t);
    const q = t.engine().queues;
    const timers = (actionId: string) => [
      () => q.find('expire', { actionId }),
      () => q.find('remind', { actionId, index: 0 }),
      () => q.find('remind', { actionId, index: 1 }),
      () => q.find('escalate-tier', { actionId, tier: 1 }),
    ];
    for (const id of [decided, other]) for (const timer of timers(id)) await waitFor('timer', timer);

    await t.api('POST', `/v1/actions/${decided}/cancel`, { token: t.tokens['deploy-bot'] });
    await waitFor('timers removed', async () => (await Promise.all(timers(decided).map((timer) => timer()))).every((job) => job === undefined), 10_000);
    for (const timer of timers(other)) expect(await (await timer())?.getState()).toBe('delayed');
    // The pending one still expires on time.
    t.clock.advance(30 * MIN + 1_000);
    await waitFor('the other expired', async () => (await status(t, other)) === 'expired', 10_000);
    expect(await status(t, decided)).toBe('cancelled');
  });

  it('rebuilds the expiry timer after Redis lost the queue, and the action still expires on time', async () => {
    const slack = new RecordingChannel('slack');
    const t = await start({ channels: [slack] });
    const id = await escalate(t, queueIntents.slack);
    await waitFor('card', () => slack.done('postCard', id).length === 1);
    await waitFor('expire timer', () => t.engine().queues.find('expire', { actionId: id }));

    expect(await deletePrefixKeys(t.prefix)).toBeGreaterThan(0);
    expect(await t.engine().queues.find('expire', { actionId: id })).toBeUndefined();
    const rebuilt = await waitFor('timer rebuilt by the sweeper', () => t.engine().queues.find('expire', { actionId: id }), 10_000);
    expect(await rebuilt.getState()).toBe('delayed');
    // Still due at expiresAt: ~30 minutes from now, not at once and not later.
    expect(rebuilt.delay).toBeGreaterThan(29 * MIN);
    expect(rebuilt.delay).toBeLessThanOrEqual(30 * MIN);
    expect(await status(t, id)).toBe('pending');

    t.clock.advance(30 * MIN - 5_000);
    await new Promise((r) => setTimeout(r, 1_500));
    expect(await status(t, id)).toBe('pending');
    t.clock.advance(5_000);
    await waitFor('expired', async () => (await status(t, id)) === 'expired', 10_000);
    await waitFor('card shows it', () => slack.done('updateCard', id).some((c) => c.status === 'expired'));
    // The card was not posted again by the rebuilt first-tier job.
    expect(slack.done('postCard', id)).toHaveLength(1);
  });
});
