import { describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { channelModule, waitFor } from './fakes/fake-channel.ts';
import { escalate, queueTestsPerCase, type QueueTest } from './fakes/queue-harness.ts';
import { ScriptedChannel } from './fakes/scripted-channel.ts';
import { redisUrlForTests } from './support/database.ts';

// The per-action card lock around posting and updating: a post-cards run with slow targets
// outlives the lock's lease unless it is renewed, and then update-cards renders alongside and
// the card posted last keeps stale buttons. Also: a post whose claim was taken over while it
// was in flight must not leave a second, never-updated card behind.

const startQueue = queueTestsPerCase();
const start = (channel: ScriptedChannel) => startQueue({ modules: [channelModule(channel)] });


const approve = (t: QueueTest, id: string) => t.api('POST', `/v1/actions/${id}/votes`, { token: t.tokens.alice, body: { decision: 'approve', reason: 'ok' } });

async function deleteLock(t: QueueTest, id: string): Promise<void> {
  const redis = new Redis(redisUrlForTests());
  try {
    await redis.del(`${t.prefix}:lock:cards:${id}`);
  } finally {
    redis.disconnect();
  }
}

describe('queue engine: the card lock', () => {
  it('is renewed while slow targets are posted: a vote meanwhile is rendered after the last post, on every card', async () => {
    const slack = new ScriptedChannel('slack');
    slack.postDelayMs = 400;
    const t = await start(slack);
    // A lease far shorter than one run (two targets × 400 ms): only renewal keeps it.
    t.engine().deps.cardLockMs = 150;
    let voted: Promise<unknown> | undefined;
    slack.duringPost = () => {
      voted ??= approve(t, [...slack.messages.values()][0]!.card.actionId);
    };
    const id = await escalate(t);
    await waitFor('both cards', () => slack.live(id).length === 2);
    await voted;
    await waitFor('the vote on every card', () => slack.live(id).every((m) => m.card.requirement?.filled === 1), 10_000);

    const lastPost = Math.max(...slack.eventsOf('post').map((e) => e.end));
    const updates = slack.eventsOf('update');
    expect(updates.length).toBeGreaterThan(0);
    // Never rendered alongside the posting run.
    for (const u of updates) expect(u.start).toBeGreaterThanOrEqual(lastPost);
  });

  it('asks Redis only to take and to release the lock when the run is quick: it holds to the end, and the release says so', async () => {
    const slack = new ScriptedChannel('slack');
    const t = await start(slack);
    const monitor = await new Redis(redisUrlForTests()).monitor();
    const lockCommands: string[][] = [];
    monitor.on('monitor', (_time: string, args: string[], source: string) => {
      // What the scripts themselves run shows too, from "lua".
      if (source !== 'lua' && args.some((a) => typeof a === 'string' && a.startsWith(`${t.prefix}:lock:cards:`))) lockCommands.push(args);
    });
    try {
      const id = await escalate(t);
      await waitFor('both cards', () => slack.live(id).length === 2);
      await waitFor('the lock released', () => lockCommands.length >= 2);
      await new Promise((r) => setTimeout(r, 300));
      // SET … NX to take it, one script to release it: no renewal (two targets well within a
      // third of the lease) and no separate question whether it held.
      expect(lockCommands.map((c) => c[0]!.toLowerCase())).toEqual(['set', 'eval']);
      expect(lockCommands[1]![1]).toMatch(/DEL/);
      // Nothing was re-rendered: the lease held.
      expect(slack.eventsOf('update')).toHaveLength(0);
    } finally {
      monitor.disconnect();
    }
  });

  it('when the lease is lost anyway, cards posted after it are re-rendered from the latest state', async () => {
    const slack = new ScriptedChannel('slack');
    slack.postDelayMs = 300;
    const t = await start(slack);
    let lost: Promise<unknown> | undefined;
    slack.duringPost = () => {
      // The lease gone (a Redis failover, a paused process), and a vote right after it.
      lost ??= (async () => {
        const id = [...slack.messages.values()][0]!.card.actionId;
        await deleteLock(t, id);
        await approve(t, id);
      })();
    };
    const id = await escalate(t);
    await waitFor('both cards', () => slack.live(id).length === 2);
    await lost;
    await waitFor('the vote on every card', () => slack.live(id).every((m) => m.card.requirement?.filled === 1), 10_000);
    expect(slack.live(id)).toHaveLength(2);
  });

  it('a card posted after its claim was taken over is deleted, not left with live buttons', async () => {
    const slack = new ScriptedChannel('slack');
    const t = await start(slack);
    slack.duringPost = async (target) => {
      if (target !== '#sre-approvals') return;
      // Another worker took the claim over (ours presumed dead) while our post was in flight.
      await t.prisma.$executeRaw`UPDATE "ChannelCard" SET "updatedAt" = now() + interval '1 second' WHERE target = ${target} AND state = 'claimed'`;
    };
    const id = await escalate(t);
    await waitFor('both posts done', () => slack.eventsOf('post').length === 2);
    const orphan = slack.eventsOf('post').find((e) => e.target === '#sre-approvals')!;
    await waitFor('orphan deleted', () => slack.eventsOf('delete').some((e) => e.messageId === orphan.messageId));
    expect(slack.live(id).map((m) => m.target)).toEqual(['@bob']);
    const rows = await t.prisma.channelCard.findMany({ where: { actionId: id }, orderBy: { target: 'asc' } });
    // The row is the new claimer's: not marked posted with our message.
    expect(rows.map((r) => [r.target, r.state, r.messageRef])).toEqual([
      ['#sre-approvals', 'claimed', null],
      ['@bob', 'posted', { target: '@bob', messageId: expect.any(String) }],
    ]);
  });

  it('without deleteCard, the taken-over copy loses its buttons instead', async () => {
    const slack = new ScriptedChannel('slack', { delete: false });
    const t = await start(slack);
    slack.duringPost = async (target) => {
      if (target === '#sre-approvals') await t.prisma.$executeRaw`UPDATE "ChannelCard" SET "updatedAt" = now() + interval '1 second' WHERE target = ${target} AND state = 'claimed'`;
    };
    const id = await escalate(t);
    const orphan = await waitFor('orphan updated', () => slack.live(id).find((m) => m.target === '#sre-approvals' && m.card.actionable === false));
    expect(orphan.card.status).toBe('pending');
    // Bob's card is posted after the orphan's target, and the orphan may be updated first.
    const bob = await waitFor("bob's card posted", () => slack.live(id).find((m) => m.target === '@bob'));
    expect(bob.card.actionable).toBe(true);
  });
});
