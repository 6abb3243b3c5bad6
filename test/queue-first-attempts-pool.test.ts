import { describe, expect, it } from 'vitest';
import { RecordingChannel, waitFor } from './fakes/fake-channel.ts';
import { escalate, queueIntents, queueTestsPerCase, type QueueTest } from './fakes/queue-harness.ts';

// Found in review of the first-attempts change: a dispatch round holds its claim transaction (a
// pooled connection) while a card job's first attempt runs, and the attempt needs connections of
// its own. With a small COUNTERSIGN_DB_POOL the attempts starved until the 2 s deadline and went
// to the queue anyway, every card late. Now a pool under 6 runs card jobs through the queue as
// before; a larger one gives attempts at most half of it.

const start = queueTestsPerCase();

async function firstAttemptsRan(t: QueueTest, ids: string[]): Promise<{ queued: number; late: number; here: number }> {
  const out = { queued: 0, late: 0, here: 0 };
  for (const id of ids) {
    const job = await t.engine().queues.find('post-cards', { actionId: id, tier: 0 });
    // A job handed over at the deadline waits as a backstop; one queued at dispatch does not.
    if (job) out[job.opts.delay ? 'late' : 'queued'] += 1;
    else out.here += 1;
  }
  return out;
}

describe('first attempts and a small database pool', () => {
  for (const pool of ['1', '2']) {
    it(`COUNTERSIGN_DB_POOL=${pool}: a burst of escalations goes through the queue, none held up to the deadline`, async () => {
      const slack = new RecordingChannel('slack');
      const t = await start({ channels: [slack], env: { COUNTERSIGN_SWEEP_SECONDS: '3600', COUNTERSIGN_DB_POOL: pool } });
      const ids = await Promise.all(Array.from({ length: 8 }, () => escalate(t, queueIntents.slack)));
      await waitFor('cards', () => ids.every((id) => slack.done('postCard', id).length === 1), 30_000);
      expect(await firstAttemptsRan(t, ids)).toEqual({ queued: 8, late: 0, here: 0 });
    });
  }

  it('COUNTERSIGN_DB_POOL=6: first attempts run in the dispatcher, none held up to the deadline', async () => {
    const slack = new RecordingChannel('slack');
    const t = await start({ channels: [slack], env: { COUNTERSIGN_SWEEP_SECONDS: '3600', COUNTERSIGN_DB_POOL: '6' } });
    const ids = await Promise.all(Array.from({ length: 8 }, () => escalate(t, queueIntents.slack)));
    await waitFor('cards', () => ids.every((id) => slack.done('postCard', id).length === 1), 30_000);
    const ran = await firstAttemptsRan(t, ids);
    expect(ran.late).toBe(0);
    expect(ran.here).toBeGreaterThan(0);
  });
});
