import { describe, expect, it } from 'vitest';
import { DeliveryError, type DecisionDelivery } from '@countersign/core';
import type { ServiceModule } from '@countersign/modules';
import { Redis } from 'ioredis';
import { freshDatabase, randomQueuePrefix, redisUrlForTests } from './support/database.ts';
import { RecordingChannel, waitFor } from './fakes/fake-channel.ts';
import { escalate, HELD_RULE, HELD_RULE_ENV, queueIntents, queuePolicy, queueTestsPerCase } from './fakes/queue-harness.ts';

// Roles and the outbox: an api-only process enqueues nothing itself (the outbox holds the
// work), a worker started later dispatches what was committed meanwhile, and every role
// serves health and metrics. Final decisions reach the registered DecisionDelivery.

const start = queueTestsPerCase();

async function keysUnder(prefix: string): Promise<string[]> {
  const redis = new Redis(redisUrlForTests());
  try {
    return await redis.keys(`${prefix}:*`);
  } finally {
    redis.disconnect();
  }
}

describe('queue engine: roles and the outbox', () => {
  it('an event committed while no worker runs is dispatched when one starts', async () => {
    const db = await freshDatabase();
    start.afterwards(db.drop);
    const prefix = randomQueuePrefix();
    const apiSlack = new RecordingChannel('slack');
    const api = await start({ role: 'api', channels: [apiSlack], databaseUrl: db.url, prefix });
    expect(api.service.context.role).toBe('api');
    const id = await escalate(api, queueIntents.slack);
    await new Promise((r) => setTimeout(r, 1_000));
    // Nothing reached Redis or a channel: the event waits in the outbox.
    expect(await keysUnder(prefix)).toEqual([]);
    expect(apiSlack.calls).toEqual([]);
    const pending = await api.prisma.outboxEvent.findMany({ where: { actionId: id } });
    expect(pending.map((e) => [e.type, e.dispatchedAt])).toEqual([['action.escalated', null]]);
    for (const path of ['/healthz', '/readyz', '/metrics']) expect((await api.api('GET', path)).status).toBe(200);
    await start.stop(api);

    const slack = new RecordingChannel('slack');
    const worker = await start({ role: 'worker', channels: [slack], databaseUrl: db.url, prefix });
    await waitFor('card posted by the late worker', () => slack.done('postCard', id).length === 1);
    await waitFor('event marked', async () => (await worker.prisma.outboxEvent.findFirst({ where: { actionId: id } }))?.dispatchedAt);
    for (const path of ['/healthz', '/readyz']) expect((await worker.api('GET', path)).status).toBe(200);
    const metrics = (await worker.api('GET', '/metrics')).text;
    expect(metrics).toMatch(/countersign_jobs_completed_total\{job="post-cards"\} 1/);
    expect(metrics).toMatch(/countersign_outbox_dispatched_total 1/);
  });

  it('hands final decisions to the registered DecisionDelivery, retrying errors and giving up on refusals', async () => {
    const calls: string[] = [];
    let webhookFailures = 1;
    const delivery: DecisionDelivery = {
      async deliverWebhook(actionId, attempt, info) {
        calls.push(`webhook ${actionId} ${attempt}/${info?.maxAttempts}`);
        if (webhookFailures-- > 0) throw new Error('connection refused');
      },
      async execute(actionId, attempt) {
        calls.push(`execute ${actionId} ${attempt}`);
        throw new DeliveryError('executor answered 400', false, 'http_400');
      },
    };
    const deliveries: ServiceModule = { name: 'test-deliveries', register: (ctx) => void (ctx.deliveries = delivery) };
    const slack = new RecordingChannel('slack');
    const t = await start({ channels: [slack], modules: [deliveries], policy: queuePolicy() + HELD_RULE, env: { COUNTERSIGN_CALLBACK_ALLOWLIST: 'https://hooks.example.com', ...HELD_RULE_ENV } });
    const id = await escalate(t, { ...queueIntents.held, callbackUrl: 'https://hooks.example.com/countersign' });
    await waitFor('card', () => slack.done('postCard', id).length === 1);
    const vote = await t.api('POST', `/v1/actions/${id}/votes`, { token: t.tokens.alice, body: { decision: 'approve', reason: 'ok' } });
    expect(vote.body.action.status).toBe('approved');

    await waitFor('webhook retried', () => calls.includes(`webhook ${id} 2/10`), 15_000);
    expect(calls.filter((c) => c.startsWith('webhook'))).toEqual([`webhook ${id} 1/10`, `webhook ${id} 2/10`]);
    await waitFor('execution given up', async () => (await (await t.engine().queues.queue('deliveries').getJobs(['failed'])).length) === 1);
    expect(calls.filter((c) => c.startsWith('execute'))).toEqual([`execute ${id} 1`]);

    // A policy refusal with a callback is delivered too (automatic: no cards, no notice).
    const refused = await t.api('POST', '/v1/actions', {
      token: t.tokens['deploy-bot'],
      body: { ...queueIntents.slack, action: { type: 'payment.send' }, callbackUrl: 'https://hooks.example.com/x' },
    });
    expect(refused.body.status).toBe('refused');
    await waitFor('refusal delivered', () => calls.includes(`webhook ${refused.body.id} 1/10`));
    expect(calls.some((c) => c.startsWith(`execute ${refused.body.id}`))).toBe(false);
    expect(slack.calls.filter((c) => c.actionId === refused.body.id)).toEqual([]);

    // Approved under a rule that names no executor: nothing to execute, no execution job.
    const plain = await escalate(t, queueIntents.slack);
    await waitFor('card', () => slack.done('postCard', plain).length === 1);
    expect((await t.api('POST', `/v1/actions/${plain}/votes`, { token: t.tokens.alice, body: { decision: 'approve', reason: 'ok' } })).body.action.status).toBe('approved');
    await waitFor('decision shown', () => slack.done('updateCard', plain).length >= 1);
    expect(calls.some((c) => c.startsWith(`execute ${plain}`))).toBe(false);
    expect((await t.engine().queues.queue('deliveries').getJobs(['completed', 'failed', 'waiting', 'active', 'delayed'])).filter((j) => j.name === 'execute-action' && (j.data as { actionId: string }).actionId === plain)).toEqual([]);
  });

  it('completes delivery jobs with a log line when no DecisionDelivery is registered', async () => {
    const slack = new RecordingChannel('slack');
    const t = await start({ channels: [slack], policy: queuePolicy() + HELD_RULE, env: { COUNTERSIGN_CALLBACK_ALLOWLIST: 'https://hooks.example.com', ...HELD_RULE_ENV } });
    const id = await escalate(t, { ...queueIntents.held, callbackUrl: 'https://hooks.example.com/countersign' });
    await t.api('POST', `/v1/actions/${id}/votes`, { token: t.tokens.alice, body: { decision: 'approve', reason: 'ok' } });
    const queues = t.engine().queues;
    await waitFor('both completed', async () => {
      const jobs = await queues.queue('deliveries').getJobs(['completed']);
      return jobs.map((j) => j.name).sort().join() === 'deliver-webhook,execute-action';
    });
  });

  it('refuses a bad worker setting at boot, naming the variable', async () => {
    await expect(start({ env: { COUNTERSIGN_WORKER_CONCURRENCY: 'lots' } })).rejects.toThrow(/COUNTERSIGN_WORKER_CONCURRENCY/);
    await expect(start({ env: { COUNTERSIGN_CHANNEL_PACING_MS: 'slack:1000' } })).rejects.toThrow(/COUNTERSIGN_CHANNEL_PACING_MS/);
  });
});
