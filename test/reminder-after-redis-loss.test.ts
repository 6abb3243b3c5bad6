import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, startRedis } from '@countersign/devstack';
import { RecordingChannel, waitFor } from './fakes/fake-channel.ts';
import { queueIntents, startQueueTest, type QueueTest } from './fakes/queue-harness.ts';

// Reminders survive losing Redis. Whether a reminder went out next to a card is recorded in
// Postgres (a row per reminder and card), so the sweeper can rebuild a reminder job that Redis
// lost even when its time has passed: a reminder that fell due while Redis was empty is sent
// once Redis is back, and one that had been sent before is not sent again. The rule asks in
// '#sre-approvals' and bob's DM, with reminders at 5 and 10 minutes.

const MIN = 60_000;
let dir: string;
let port: number;
let redis: Awaited<ReturnType<typeof startRedis>>;
let t: QueueTest & { dropDatabase(): Promise<void> };
const channel = new RecordingChannel('slack');

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'countersign-reminder-redis-'));
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

async function escalate(): Promise<string> {
  const res = await t.api('POST', '/v1/actions', { token: t.tokens['deploy-bot'], body: queueIntents.cards });
  expect(res.status, res.text).toBe(201);
  const id = res.body.id as string;
  await waitFor('two cards', () => channel.done('postCard', id).length === 2, 30_000);
  await waitFor('reminder timers', () => t.engine().queues.find('remind', { actionId: id, index: 1 }), 30_000);
  return id;
}

/** Reminders per card target, e.g. { '#sre-approvals': 1, '@bob': 1 }. */
function remindersOf(id: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const c of channel.done('remind', id)) out[c.target!] = (out[c.target!] ?? 0) + 1;
  return out;
}

/** The reminder job as the sweeper rebuilt it has run to the end. */
async function reminderJobDone(id: string, index: number): Promise<boolean> {
  const job = await t.engine().queues.find('remind', { actionId: id, index });
  return !!job && (await job.getState()) === 'completed';
}

describe('reminders when Redis loses its data', () => {
  it('a reminder sent before Redis was emptied is not sent again when its job is rebuilt', async () => {
    const id = await escalate();
    t.clock.advance(5 * MIN + 1_000);
    await waitFor('first reminder on both cards', () => channel.done('remind', id).length === 2, 30_000);

    const client = new Redis(redis.url, { maxRetriesPerRequest: 1 });
    try {
      await client.flushall();
    } finally {
      client.disconnect();
    }
    // The sweeper rebuilds the reminder that is due (its record says it was sent) and runs it.
    await waitFor('reminder 0 rebuilt and run', () => reminderJobDone(id, 0), 30_000);
    expect(remindersOf(id)).toEqual({ '#sre-approvals': 1, '@bob': 1 });
    expect(await t.engine().queues.find('expire', { actionId: id })).toBeDefined();
  }, 90_000);

  it('a reminder that fell due while Redis was empty is sent once Redis is back, once per card', async () => {
    const id = await escalate();
    t.clock.advance(5 * MIN + 1_000);
    await waitFor('first reminder on both cards', () => channel.done('remind', id).length === 2, 30_000);

    // Redis goes away; the second reminder falls due meanwhile; Redis comes back empty.
    await redis.stop();
    t.clock.advance(5 * MIN);
    redis = await startRedis({ dir, port, persist: false });

    await waitFor('second reminder on both cards', () => channel.done('remind', id).length === 4, 60_000);
    await waitFor('reminder 1 run to the end', () => reminderJobDone(id, 1), 30_000);
    expect(remindersOf(id)).toEqual({ '#sre-approvals': 2, '@bob': 2 });
    const rows = await t.prisma.channelCard.findMany({ where: { actionId: id, target: { startsWith: 'remind/' } }, orderBy: { target: 'asc' } });
    expect(rows.map((r) => [r.target, r.state])).toEqual([
      ['remind/0/#sre-approvals', 'sent'],
      ['remind/0/@bob', 'sent'],
      ['remind/1/#sre-approvals', 'sent'],
      ['remind/1/@bob', 'sent'],
    ]);
    expect(await t.api('GET', `/v1/actions/${id}`, { token: t.tokens['deploy-bot'] })).toMatchObject({ body: { status: 'pending' } });
  }, 120_000);
});
