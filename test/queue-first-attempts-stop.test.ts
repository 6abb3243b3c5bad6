import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { CardModel, CardRef, ChannelTarget } from '@countersign/core';
import { RecordingChannel, waitFor } from './fakes/fake-channel.ts';
import { escalate, queueIntents, startQueueTest } from './fakes/queue-harness.ts';

// Found in review of the first-attempts change: stop() waited for the dispatch rounds, which
// hand a first attempt past its 2 s deadline to the queue and end, but not for the attempt: its
// post went out after the pool and Redis were closed, and its card row was never marked posted.
// stop() now gives running attempts the grace the queue workers' close gives a job.

/** A chat service that answers a post after `ms` (slow, well within SLACK_API_TIMEOUT_MS). */
class SlowChannel extends RecordingChannel {
  entered = 0;
  constructor(
    name: string,
    private readonly ms: number,
  ) {
    super(name);
  }
  override async postCard(card: CardModel, target: ChannelTarget): Promise<CardRef> {
    this.entered += 1;
    await new Promise((r) => setTimeout(r, this.ms));
    return super.postCard(card, target);
  }
}

describe('stopping during a first attempt', () => {
  it('stop() lets a running first attempt finish recording its post (as workers.close does for a job)', async () => {
    const slack = new SlowChannel('slack', 4_000);
    const t = await startQueueTest({ channels: [slack], env: { COUNTERSIGN_SWEEP_SECONDS: '3600' } });
    try {
      const id = await escalate(t, queueIntents.slack);
      await waitFor('post under way', () => slack.entered === 1);
      await t.service.stop();
      // The post still reaches the chat service after stop() returned…
      await waitFor('late post', () => slack.done('postCard', id).length === 1, 10_000);
      const rows = await t.prisma.channelCard.findMany({ where: { actionId: id } });
      // …and the process that made it could no longer record it.
      expect(rows.map((r) => r.state)).toEqual(['posted']);
    } finally {
      await t.prisma.$disconnect();
      await t.dropDatabase();
      fs.rmSync(t.configDir, { recursive: true, force: true });
    }
  });
});
