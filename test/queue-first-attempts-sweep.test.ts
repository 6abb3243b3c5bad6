import { describe, expect, it } from 'vitest';
import { RecordingChannel, waitFor } from './fakes/fake-channel.ts';
import { escalate, metric, queueIntents, queueTestsPerCase } from './fakes/queue-harness.ts';

// Found in review of the first-attempts change: a card posted at the first try left no job in
// Redis, so the sweeper's next round enqueued a post-cards check for every action still pending
// (the BullMQ job the change set out to save) and counted its completion twice. The first
// attempt now leaves a note the sweeper reads.

const start = queueTestsPerCase();

describe('first attempts and the sweeper', () => {
  it('a card posted at the first try is not run again through BullMQ by the next sweep', async () => {
    const slack = new RecordingChannel('slack');
    const t = await start({ channels: [slack], env: { COUNTERSIGN_SWEEP_SECONDS: '1' } });
    const id = await escalate(t, queueIntents.slack);
    await waitFor('card', () => slack.done('postCard', id).length === 1);
    // Let a few sweep rounds pass (each is a lease-guarded full pass over pending actions).
    await t.engine().sweeper.sweep();
    await t.engine().sweeper.sweep();
    await waitFor('chat queue idle', async () => {
      const c = await t.engine().queues.queue('chat').getJobCounts('waiting', 'delayed', 'active');
      return (c.waiting ?? 0) + (c.delayed ?? 0) + (c.active ?? 0) === 0;
    });
    expect(await metric(t, /^countersign_jobs_completed_total\{job="post-cards"\}/)).toBe(1);
    expect(slack.done('postCard', id)).toHaveLength(1);
  });
});
