import { describe, expect, it } from 'vitest';
import type { JobContext } from '@countersign/queue';
import { jobHandlers } from '@countersign/worker';
import { Redis } from 'ioredis';
import { redisUrlForTests } from './support/database.ts';
import { RecordingChannel, waitFor } from './fakes/fake-channel.ts';
import { escalate, queueTestsPerCase } from './fakes/queue-harness.ts';

// A retried, stalled or duplicated job never posts a card twice: the same post-cards job run
// again, run concurrently after its lease ran out, and two worker processes sharing the work.

const start = queueTestsPerCase();

/** A JobContext for calling a processor directly, as a second (stalled) runner would. */
function directContext(deferred: string[]): JobContext {
  return {
    name: 'post-cards',
    jobId: 'direct',
    attempt: 1,
    maxAttempts: 1,
    async defer(_ms, reason) {
      deferred.push(reason);
      throw new Error(`deferred: ${reason}`);
    },
  };
}

function postsPerTarget(channels: RecordingChannel[], actionId: string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const ch of channels) for (const c of ch.done('postCard', actionId)) counts.set(`${ch.name} ${c.target}`, (counts.get(`${ch.name} ${c.target}`) ?? 0) + 1);
  return counts;
}

describe('queue engine: idempotent jobs', () => {
  it('running the same post-cards job again, or again after Redis forgot it, posts nothing new', async () => {
    const slack = new RecordingChannel('slack');
    const t = await start({ channels: [slack] });
    const id = await escalate(t);
    const queues = t.engine().queues;
    await waitFor('first attempt done', () => slack.done('postCard', id).length === 2);

    const handlers = jobHandlers(t.engine().deps);
    await handlers['post-cards']({ actionId: id, tier: 0 }, directContext([]));
    await handlers['post-cards']({ actionId: id, tier: 0 }, directContext([]));

    // Enqueued afresh (whatever Redis knew of it forgotten; its first attempt ran in the
    // dispatcher, and the sweeper may have queued a check since): it runs, and skips every target.
    await waitFor('no job running', async () => !['active', 'waiting', 'delayed'].includes((await (await queues.find('post-cards', { actionId: id, tier: 0 }))?.getState()) ?? ''));
    await (await queues.find('post-cards', { actionId: id, tier: 0 }))?.remove();
    await queues.enqueue('post-cards', { actionId: id, tier: 0 });
    await waitFor('job ran again', async () => (await (await queues.find('post-cards', { actionId: id, tier: 0 }))?.getState()) === 'completed');
    expect(slack.done('postCard', id)).toHaveLength(2);
  });

  it('a second runner of a stalled job (its lock lease gone) never posts a target the first one claimed', async () => {
    // Slow posts: the first runner is still inside channel calls when the second one starts.
    const slack = new RecordingChannel('slack', { delayMs: 400 });
    // A pool under 6 connections: no first attempt in the dispatcher either (engine.ts), so
    // with the workers paused below only the two runners here post.
    const t = await start({ channels: [slack], env: { COUNTERSIGN_WORKER_CONCURRENCY: '1', COUNTERSIGN_DB_POOL: '5' } });
    const handlers = jobHandlers(t.engine().deps);
    // Stop the engine's own workers so only our two runners post.
    await Promise.all(t.engine().workers.workers.map((w) => w.pause(true)));
    const id = await escalate(t);

    const firstDeferred: string[] = [];
    const first = handlers['post-cards']({ actionId: id, tier: 0 }, directContext(firstDeferred));
    // Settled below; a deferral before then is an outcome, not an unhandled rejection.
    first.catch(() => undefined);
    await new Promise((r) => setTimeout(r, 150));
    // What a stall looks like to a second runner: the per-action lock lease has run out.
    const redis = new Redis(redisUrlForTests());
    await redis.del(`${t.prefix}:lock:cards:${id}`);
    redis.disconnect();
    const secondDeferred: string[] = [];
    const second = handlers['post-cards']({ actionId: id, tier: 0 }, directContext(secondDeferred));
    const results = await Promise.allSettled([first, second]);

    // The two runners may share the targets, but the claims let each target be posted once;
    // a runner that met a claim held by the other defers instead of posting.
    expect(secondDeferred).toEqual(['busy']);
    expect(results[1].status).toBe('rejected');
    expect(firstDeferred.length).toBe(results[0].status === 'rejected' ? 1 : 0);
    expect([...postsPerTarget([slack], id).values()]).toEqual([1, 1]);
    const rows = await t.service.context.db.cards.forAction(id);
    expect(rows.map((r) => r.state)).toEqual(['posted', 'posted']);
    // And once the first runner is done, the second one's retry finds everything posted.
    await handlers['post-cards']({ actionId: id, tier: 0 }, directContext([]));
    expect(slack.done('postCard', id)).toHaveLength(2);
  });

  it('two worker processes on one database and queue prefix post each card once', async () => {
    const a = { slack: new RecordingChannel('slack'), teams: new RecordingChannel('teams') };
    const b = { slack: new RecordingChannel('slack'), teams: new RecordingChannel('teams') };
    const first = await start({ channels: [a.slack, a.teams], env: { COUNTERSIGN_WORKER_CONCURRENCY: '4' } });
    const second = await start({ channels: [b.slack, b.teams], databaseUrl: first.databaseUrl, prefix: first.prefix, env: { COUNTERSIGN_WORKER_CONCURRENCY: '4' } });
    const all = [a.slack, a.teams, b.slack, b.teams];

    const ids = await Promise.all(Array.from({ length: 24 }, (_, i) => escalate(i % 2 ? first : second)));
    await waitFor('every card', () => ids.every((id) => postsPerTarget(all, id).size === 4), 30_000);
    for (const id of ids) expect([...postsPerTarget(all, id).values()]).toEqual([1, 1, 1, 1]);
    // Both processes did some of the work.
    expect(a.slack.done('postCard').length + a.teams.done('postCard').length).toBeGreaterThan(0);
    expect(b.slack.done('postCard').length + b.teams.done('postCard').length).toBeGreaterThan(0);

    // Votes through both APIs: every card of every action shows the outcome in the end.
    await Promise.all(
      ids.map(async (id, i) => {
        const api = i % 2 ? second : first;
        await Promise.all([
          api.api('POST', `/v1/actions/${id}/votes`, { token: api.tokens.alice, body: { decision: 'approve', reason: 'ok' } }),
          (i % 2 ? first : second).api('POST', `/v1/actions/${id}/votes`, { token: (i % 2 ? first : second).tokens.bob, body: { decision: 'approve', reason: 'ok' } }),
        ]);
      }),
    );
    const lastStatus = (id: string) => {
      const last = new Map<string, { at: number; status: string }>();
      for (const ch of all) for (const c of ch.done('updateCard', id)) {
        const k = `${ch.name} ${c.target}`;
        if (!last.has(k) || last.get(k)!.at <= c.at) last.set(k, { at: c.at, status: c.status! });
      }
      return last;
    };
    await waitFor('outcome on every card', () => ids.every((id) => [...lastStatus(id).values()].filter((v) => v.status === 'approved').length === 4), 30_000);
    await waitFor('requester told once per channel', () => ids.every((id) => all.reduce((n, ch) => n + ch.done('notifyPerson', id).length, 0) === 2), 30_000);
    for (const id of ids) expect([...postsPerTarget(all, id).values()]).toEqual([1, 1, 1, 1]);
  }, 120_000);
});
