import { describe, expect, it } from 'vitest';
import type { CardModel, CardRef, ChannelTarget } from '@countersign/core';
import { FIRST_ATTEMPT_DEADLINE_MS, LATE_BACKSTOP_MS } from '@countersign/worker';
import { RecordingChannel, waitFor } from './fakes/fake-channel.ts';
import { escalate, metric, queueIntents, queueTestsPerCase, type QueueTest } from './fakes/queue-harness.ts';

// A card job's first attempt runs in the process that dispatched its outbox event, not through
// BullMQ (modules/worker/src/outbox/first-attempts.ts): the queue gets only what needs it. The
// event is marked dispatched only once its first attempts ended or were handed to the queue,
// so a process that dies mid-attempt leaves the event for another dispatcher.

const start = queueTestsPerCase();

/** Posts wait until released (as a slow chat service would), then post as RecordingChannel does. */
class HeldChannel extends RecordingChannel {
  private release: () => void = () => undefined;
  private held: Promise<void> | null = null;
  entered = 0;

  hold(): void {
    this.held = new Promise((resolve) => (this.release = resolve));
  }

  letGo(): void {
    this.held = null;
    this.release();
  }

  override async postCard(card: CardModel, target: ChannelTarget): Promise<CardRef> {
    this.entered += 1;
    if (this.held) await this.held;
    return super.postCard(card, target);
  }
}

async function escalatedEvent(t: QueueTest, actionId: string) {
  return (await t.prisma.outboxEvent.findFirstOrThrow({ where: { actionId, type: 'action.escalated' } })).dispatchedAt;
}

describe('card jobs: the first attempt runs in the dispatcher', () => {
  it('posts and updates the cards without a queue job; the completions are counted as the queue counts them', async () => {
    const slack = new RecordingChannel('slack');
    // No sweeper round during the case: it would queue a first-tier check of its own.
    const t = await start({ channels: [slack], env: { COUNTERSIGN_SWEEP_SECONDS: '3600' } });
    const id = await escalate(t, queueIntents.slack);
    await waitFor('card', () => slack.done('postCard', id).length === 1);
    const queues = t.engine().queues;
    // Timers still go to the queue: the expiry waits there…
    expect(await (await waitFor('expire timer', () => queues.find('expire', { actionId: id })))?.getState()).toBe('delayed');
    const vote = await t.api('POST', `/v1/actions/${id}/votes`, { token: t.tokens.alice, body: { decision: 'approve', reason: 'ok' } });
    expect(vote.status, vote.text).toBe(201);
    await waitFor('final card', () => slack.done('updateCard', id).some((c) => c.status === 'approved'));

    expect(await queues.find('post-cards', { actionId: id, tier: 0 })).toBeUndefined();
    const decided = await t.prisma.outboxEvent.findFirstOrThrow({ where: { actionId: id, type: 'action.decided' } });
    expect(await queues.find('update-cards', { actionId: id }, String(decided.id))).toBeUndefined();
    expect((await queues.queue('chat').getJobCounts('completed', 'waiting', 'delayed', 'active', 'failed'))).toEqual({ completed: 0, waiting: 0, delayed: 0, active: 0, failed: 0 });
    expect(await metric(t, /^countersign_jobs_completed_total\{job="post-cards"\}/)).toBe(1);
    expect(await metric(t, /^countersign_jobs_completed_total\{job="update-cards"\}/)).toBeGreaterThanOrEqual(1);
    // …until the decision takes it out.
    await waitFor('expire timer removed', async () => (await queues.find('expire', { actionId: id })) === undefined);
    await waitFor('events marked', async () => (await t.prisma.outboxEvent.count({ where: { actionId: id, dispatchedAt: null } })) === 0);
  });

  it('marks the event dispatched only once its first attempt has ended', async () => {
    const slack = new HeldChannel('slack');
    slack.hold();
    const t = await start({ channels: [slack], env: { COUNTERSIGN_SWEEP_SECONDS: '3600' } });
    const id = await escalate(t, queueIntents.slack);
    await waitFor('post under way', () => slack.entered === 1);
    // The claim is still open: a process dying now would leave the event to be dispatched again.
    expect(await escalatedEvent(t, id)).toBeNull();
    slack.letGo();
    await waitFor('card', () => slack.done('postCard', id).length === 1);
    await waitFor('event marked', async () => (await escalatedEvent(t, id)) !== null);
    expect(slack.done('postCard', id)).toHaveLength(1);
  });

  it('hands a first attempt still running at the deadline to the queue as a backstop, taken back once the attempt posts', async () => {
    const slack = new HeldChannel('slack');
    slack.hold();
    const t = await start({ channels: [slack], env: { COUNTERSIGN_SWEEP_SECONDS: '3600' } });
    const id = await escalate(t, queueIntents.slack);
    await waitFor('post under way', () => slack.entered === 1);
    // Past the deadline the round enqueues the job, waiting, and closes its transaction.
    const queues = t.engine().queues;
    const backstop = await waitFor('backstop queued at the deadline', () => queues.find('post-cards', { actionId: id, tier: 0 }), FIRST_ATTEMPT_DEADLINE_MS + 5_000);
    expect(await backstop.getState()).toBe('delayed');
    expect(backstop.delay).toBe(LATE_BACKSTOP_MS);
    await waitFor('event marked', async () => (await escalatedEvent(t, id)) !== null);
    expect(slack.done('postCard', id)).toHaveLength(0);
    slack.letGo();
    await waitFor('card', () => slack.done('postCard', id).length === 1);
    // Nothing left to do: the backstop is taken back; the sweeper knows the first card job ran.
    await waitFor('backstop taken back', async () => (await queues.find('post-cards', { actionId: id, tier: 0 })) === undefined);
    expect(await queues.ranOutside('post-cards', { actionId: id, tier: 0 })).toBe(true);
    expect(slack.done('postCard', id)).toHaveLength(1);
  });

  it('brings the backstop forward when a late first attempt fails: the queue retries after the backoff, and posts once', async () => {
    const slack = new HeldChannel('slack');
    slack.hold();
    slack.failNext('postCard', () => new Error('socket hang up'));
    const t = await start({ channels: [slack], env: { COUNTERSIGN_SWEEP_SECONDS: '3600' } });
    const id = await escalate(t, queueIntents.slack);
    await waitFor('post under way', () => slack.entered === 1);
    const queues = t.engine().queues;
    const backstop = await waitFor('backstop queued at the deadline', () => queues.find('post-cards', { actionId: id, tier: 0 }), FIRST_ATTEMPT_DEADLINE_MS + 5_000);
    slack.letGo();
    // The retry runs after about a second (the job's backoff), long before the backstop's 30 s.
    await waitFor('card posted by the queue', () => slack.done('postCard', id).length === 1, 10_000);
    await waitFor('retry done', async () => (await backstop.getState()) === 'completed');
    expect(await metric(t, /^countersign_jobs_failed_total\{job="post-cards",final="false"\}/)).toBe(1);
    expect(slack.done('postCard', id)).toHaveLength(1);
  });

  it('the sweeper takes a first card job that ran in the dispatcher as done: no check of its own', async () => {
    const slack = new RecordingChannel('slack');
    const t = await start({ channels: [slack], env: { COUNTERSIGN_SWEEP_SECONDS: '3600' } });
    const id = await escalate(t, queueIntents.slack);
    await waitFor('card', () => slack.done('postCard', id).length === 1);
    await waitFor('note left', () => t.engine().queues.ranOutside('post-cards', { actionId: id, tier: 0 }));
    const report = await t.engine().sweeper.sweep();
    expect(report.rechecked).toBe(0);
    expect(await t.engine().queues.find('post-cards', { actionId: id, tier: 0 })).toBeUndefined();
  });
});
