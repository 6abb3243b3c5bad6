import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import type { ApprovalChannel, CardModel, CardRef } from '@countersign/core';
import { RedisMutex, type JobContext } from '@countersign/queue';
import { updateCards } from '../modules/worker/src/jobs/update-cards.ts';
import type { WorkerDeps } from '../modules/worker/src/deps.ts';
import { RecordingChannel, waitFor } from './fakes/fake-channel.ts';
import { escalate, queueIntents, queueTestsPerCase } from './fakes/queue-harness.ts';
import { redisUrlForTests } from './support/database.ts';

// An update-cards run whose card lock lease ran out under it (Redis lost the key) while it was
// rendering a pending action, and whose release then failed (its connection gone): meanwhile
// the action was cancelled and the decision's run showed it. The older run renders its stale
// state last; it must not end there: a fresh run renders the cards again from Postgres, so
// every card ends showing the outcome. Found by review.

const start = queueTestsPerCase();

describe('update-cards whose card lock lease ran out under it', () => {
  it('renders the cards again once more from the latest state, so the card ends showing the outcome', async () => {
    const slack = new RecordingChannel('slack');
    const t = await start({ channels: [slack] });
    const id = await escalate(t, queueIntents.slack);
    await waitFor('card posted', () => slack.done('postCard', id).length === 1);
    await waitFor('dispatched', async () => (await t.prisma.outboxEvent.count({ where: { actionId: id, dispatchedAt: null } })) === 0);

    // A worker (U1) running the update of an earlier vote, on its own Redis connection.
    const flaky = new Redis(redisUrlForTests(), { maxRetriesPerRequest: 0, enableOfflineQueue: false, lazyConnect: true });
    await flaky.connect();
    let unblock: () => void = () => undefined;
    const blocked = new Promise<void>((r) => (unblock = r));
    let entered: () => void = () => undefined;
    const inRender = new Promise<void>((r) => (entered = r));
    const slow: ApprovalChannel = Object.assign(Object.create(slack) as ApprovalChannel, {
      async updateCard(card: CardModel, ref: CardRef) {
        entered();
        await blocked; // a slow chat API
        return slack.updateCard(card, ref);
      },
    });
    const deps = t.engine().deps as WorkerDeps;
    const u1deps: WorkerDeps = { ...deps, mutex: new RedisMutex(flaky, t.prefix), channels: new Map([['slack', slow]]) as WorkerDeps['channels'] };
    const job: JobContext = { name: 'update-cards', jobId: `update-cards/${id}/1`, attempt: 1, maxAttempts: 12, defer: async () => Promise.reject(new Error('deferred')) };
    const u1 = updateCards(u1deps)({ actionId: id }, job);
    await inRender; // U1 holds the lock and read the action as pending

    // Redis loses the lock key (a failover without the key), the action is cancelled, and the
    // decision's update-cards (U2, the service's own worker) takes the lock and shows it.
    const admin = new Redis(redisUrlForTests());
    const keys = await admin.keys(`${t.prefix}:lock:cards:${id}`);
    expect(keys).toHaveLength(1);
    await admin.del(...keys);
    admin.disconnect();
    const c = await t.api('POST', `/v1/actions/${id}/cancel`, { token: t.tokens['deploy-bot'] });
    expect(c.status, c.text).toBe(200);
    await waitFor('U2 shows cancelled', () => slack.done('updateCard', id).some((x) => x.status === 'cancelled'));

    // U1's connection drops just before it releases; it finishes its (stale) render.
    flaky.disconnect();
    unblock();
    await u1;
    // U1's stale render went out after U2's…
    await waitFor('the stale render', () => slack.done('updateCard', id).some((x) => x.status === 'pending'));
    // …and a fresh run renders the outcome over it.
    await waitFor('the outcome rendered last', () => slack.done('updateCard', id).at(-1)?.status === 'cancelled');
    const calls = slack.done('updateCard', id).map((x) => x.status);
    expect(calls.indexOf('pending')).toBeLessThan(calls.lastIndexOf('cancelled'));
    expect(slack.done('updateCard', id).at(-1)).toMatchObject({ status: 'cancelled', actionable: false });
    expect((await t.api('GET', `/v1/actions/${id}`, { token: t.tokens['deploy-bot'] })).body.status).toBe('cancelled');
  });
});
