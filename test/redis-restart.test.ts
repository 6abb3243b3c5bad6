import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, startRedis } from '@countersign/devstack';
import { RecordingChannel, waitFor } from './fakes/fake-channel.ts';
import { queueIntents, startQueueTest, type QueueTest } from './fakes/queue-harness.ts';

// Losing Redis loses no decision: a real Redis process is stopped and a new, empty one started
// on the same port while an action is pending. The engine reconnects, the sweeper rebuilds the
// timers from Postgres, and the action still expires on time with its cards updated.
let dir: string;
let port: number;
let redis: Awaited<ReturnType<typeof startRedis>>;
let t: QueueTest & { dropDatabase(): Promise<void> };
const channel = new RecordingChannel('slack');

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'countersign-redis-restart-'));
  port = await freePort();
  redis = await startRedis({ dir, port, persist: false });
  t = await startQueueTest({ channels: [channel], env: { REDIS_URL: redis.url } });
}, 60_000);

afterAll(async () => {
  await t?.stop();
  await t?.dropDatabase();
  await redis?.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('Redis restarted mid-run', () => {
  it('the pending action still expires on time, and new escalations still get cards', async () => {
    const { body: action } = await t.api('POST', '/v1/actions', { token: t.tokens['deploy-bot'], body: queueIntents.slack });
    expect(action.status).toBe('pending');
    await waitFor('card posted', () => channel.done('postCard', action.id).length === 1 || undefined);

    await redis.stop();
    redis = await startRedis({ dir, port, persist: false }); // same address, no data
    t.clock.advance(31 * 60_000); // past the 30 minute expiry

    await waitFor(
      'action expired',
      async () => (await t.prisma.action.findUniqueOrThrow({ where: { id: action.id } })).status === 'expired' || undefined,
      30_000,
    );
    await waitFor('card shows expiry', () => channel.done('updateCard', action.id).some((c) => c.status === 'expired' && !c.actionable) || undefined, 30_000);
    const read = await t.api('GET', `/v1/actions/${action.id}`, { token: t.tokens['deploy-bot'] });
    expect(read.body).toMatchObject({ status: 'expired', decidedBy: 'system' });

    const { body: next } = await t.api('POST', '/v1/actions', { token: t.tokens['deploy-bot'], body: queueIntents.slack });
    await waitFor('card for an escalation after the restart', () => channel.done('postCard', next.id).length === 1 || undefined, 30_000);
    expect(channel.done('postCard', action.id)).toHaveLength(1);
  }, 90_000);
});
