import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DomainError } from '@countersign/contracts';
import { ChannelError } from '@countersign/core';
import { deliveryModule } from '@countersign/delivery';
import { startReceiver, type Receiver } from '../modules/delivery/test/receiver.ts';
import { RecordingChannel, waitFor } from './fakes/fake-channel.ts';
import { queueIntents, startQueueTest, type QueueTest } from './fakes/queue-harness.ts';
import { intents, startTestService, type TestService } from './support/service.ts';

// The engine's metrics move when the engine acts: decisions by outcome and rule, votes by
// channel and result, time to decision by final state, redemptions, artifact write failures,
// config reloads; pending actions and outbox lag read from Postgres at scrape time; card posts,
// deliveries and queue jobs from a service running the worker. Each check compares /metrics
// before and after, so what other cases did in between never decides the outcome.

type Labels = Record<string, string>;

/** The value of one series in a Prometheus text exposition, undefined when absent. */
function sample(text: string, name: string, labels: Labels = {}): number | undefined {
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const have = Object.fromEntries([...(m[2] ?? '').matchAll(/([a-zA-Z_]+)="((?:[^"\\]|\\.)*)"/g)].map((l) => [l[1]!, l[2]!]));
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) return Number(m[3]);
  }
  return undefined;
}

async function scrape(t: { api: TestService['api'] }): Promise<string> {
  const res = await t.api('GET', '/metrics');
  expect(res.status).toBe(200);
  return res.text;
}

/** How much each series grew between two scrapes (an absent series counts as 0). */
function grew(before: string, after: string, name: string, labels: Labels = {}): number {
  return (sample(after, name, labels) ?? 0) - (sample(before, name, labels) ?? 0);
}

describe('engine metrics', () => {
  let t: TestService;
  beforeAll(async () => {
    t = await startTestService();
  });
  afterAll(async () => {
    await t?.stop();
  });

  const submit = (body: unknown, headers?: Record<string, string>) => t.api('POST', '/v1/actions', { token: t.tokens['deploy-bot']!, body, ...(headers ? { headers } : {}) });
  const vote = (id: string, person: string, decision: 'approve' | 'deny') =>
    t.api('POST', `/v1/actions/${id}/votes`, { token: t.tokens[person]!, body: { decision, reason: `${person} says ${decision}` } });

  it('counts each decision once, by outcome and the rules that made it (none: nothing matched)', async () => {
    const before = await scrape(t);
    expect((await submit(intents.read)).body.status).toBe('approved');
    expect((await submit(intents.piiExport)).body.status).toBe('refused');
    expect((await submit(intents.unmatched)).body.status).toBe('refused');
    const key = { 'idempotency-key': 'metrics-once' };
    const first = await submit(intents.prodDelete, key);
    const replay = await submit(intents.prodDelete, key);
    expect(replay.body.id).toBe(first.body.id);
    const after = await scrape(t);

    expect(grew(before, after, 'countersign_decisions_total', { outcome: 'approve', rule: 'reads' })).toBe(1);
    expect(grew(before, after, 'countersign_decisions_total', { outcome: 'refuse', rule: 'pii-export' })).toBe(1);
    expect(grew(before, after, 'countersign_decisions_total', { outcome: 'refuse', rule: 'none' })).toBe(1);
    // The replay answered with the first decision: still one escalation.
    expect(grew(before, after, 'countersign_decisions_total', { outcome: 'escalate', rule: 'prod-delete' })).toBe(1);
  });

  it('reads pending actions, the oldest one’s age and the outbox lag from Postgres when scraped', async () => {
    const pendingBefore = await t.prisma.action.count({ where: { status: 'pending' } });
    expect((await submit(intents.prodDelete)).status).toBe(201);
    t.clock.advance(600_000);
    // No worker runs here, so the outbox rows stay undispatched; make the oldest two minutes old.
    const undispatched = await t.prisma.outboxEvent.count({ where: { dispatchedAt: null } });
    expect(undispatched).toBeGreaterThan(0);
    await t.prisma.$executeRaw`UPDATE "OutboxEvent" SET "createdAt" = now() - interval '120 seconds' WHERE "dispatchedAt" IS NULL`;

    const text = await scrape(t);
    expect(sample(text, 'countersign_pending_actions')).toBe(pendingBefore + 1);
    expect(sample(text, 'countersign_oldest_pending_action_age_seconds')).toBeGreaterThanOrEqual(600);
    expect(sample(text, 'countersign_outbox_lag_seconds')).toBeGreaterThanOrEqual(120);

    await t.prisma.$executeRaw`UPDATE "OutboxEvent" SET "dispatchedAt" = now() WHERE "dispatchedAt" IS NULL`;
    expect(sample(await scrape(t), 'countersign_outbox_lag_seconds')).toBe(0);
  });

  it('counts votes by channel and result, and times the decision they make', async () => {
    const id = (await submit(intents.prodDelete)).body.id as string;
    const before = await scrape(t);
    t.clock.advance(90_000);
    expect((await vote(id, 'alice', 'approve')).status).toBe(201);
    // erin owns deploy-bot: turned down by the engine.
    expect((await vote(id, 'erin', 'approve')).body.code).toBe('self_approval');
    const decided = await vote(id, 'bob', 'approve');
    expect(decided.body.action.status).toBe('approved');
    expect((await vote(id, 'judy', 'deny')).body.code).toBe('already_decided');
    const after = await scrape(t);

    expect(grew(before, after, 'countersign_votes_total', { channel: 'api', result: 'approve' })).toBe(2);
    expect(grew(before, after, 'countersign_votes_total', { channel: 'api', result: 'refused' })).toBe(2);
    expect(grew(before, after, 'countersign_votes_total', { channel: 'api', result: 'deny' })).toBe(0);
    expect(grew(before, after, 'countersign_time_to_decision_seconds_count', { outcome: 'approved' })).toBe(1);
    // Ninety seconds on the service's clock: in the 120 s bucket, not in the 60 s one.
    expect(grew(before, after, 'countersign_time_to_decision_seconds_bucket', { outcome: 'approved', le: '120' })).toBe(1);
    expect(grew(before, after, 'countersign_time_to_decision_seconds_bucket', { outcome: 'approved', le: '60' })).toBe(0);
    expect(grew(before, after, 'countersign_time_to_decision_seconds_sum', { outcome: 'approved' })).toBeGreaterThanOrEqual(90);
  });

  it('times cancelled and expired actions by their final state', async () => {
    const cancelled = (await submit(intents.prodDelete)).body.id as string;
    const before = await scrape(t);
    expect((await t.api('POST', `/v1/actions/${cancelled}/cancel`, { token: t.tokens['deploy-bot']!, body: {} })).status).toBe(200);
    expect((await submit(intents.prodDelete)).status).toBe(201);
    t.clock.advance(31 * 60_000);
    const expired = await t.service.gate.expireOverdue();
    expect(expired).toBeGreaterThan(0);
    const after = await scrape(t);

    expect(grew(before, after, 'countersign_time_to_decision_seconds_count', { outcome: 'cancelled' })).toBe(1);
    expect(grew(before, after, 'countersign_time_to_decision_seconds_count', { outcome: 'expired' })).toBe(expired);
    expect(grew(before, after, 'countersign_time_to_decision_seconds_bucket', { outcome: 'expired', le: '1800' })).toBe(0);
    expect(sample(after, 'countersign_pending_actions')).toBe(0);
    expect(sample(after, 'countersign_oldest_pending_action_age_seconds')).toBe(0);
  });

  it('counts release redemptions: redeemed, already redeemed, invalid', async () => {
    const payment = { action: { type: 'payment.send', resource: 'supplier/acme', params: { amount: 12 } }, authority: { changeTicket: 'CHG-1' } };
    const token = (await submit(payment)).body.releaseToken as string;
    const redeem = (releaseToken: string) => t.api('POST', '/v1/releases/redeem', { token: t.tokens.grace!, body: { token: releaseToken } });
    const before = await scrape(t);
    expect((await redeem(token)).status).toBe(201);
    expect((await redeem(token)).body.code).toBe('already_redeemed');
    const forged = `${token.slice(0, -4)}${token.endsWith('AAAA') ? 'BBBB' : 'AAAA'}`;
    expect((await redeem(forged)).body.code).toBe('invalid_release_token');
    const after = await scrape(t);

    expect(grew(before, after, 'countersign_release_redemptions_total', { result: 'redeemed' })).toBe(1);
    expect(grew(before, after, 'countersign_release_redemptions_total', { result: 'already_redeemed' })).toBe(1);
    expect(grew(before, after, 'countersign_release_redemptions_total', { result: 'invalid' })).toBe(1);
  });

  it('counts a change whose artifact could not be sealed, and not a refusal', async () => {
    const store = t.service.context.store;
    const before = await scrape(t);
    // Sealing began, then the transaction failed: rolled back, artifact and all.
    const seal = (fail: () => Error) =>
      store.transaction(async (tx) => {
        await tx.appendArtifact({ kind: 'config.changed', file: 'policy', digest: 'f'.repeat(64), previousDigest: null });
        throw fail();
      });
    await expect(seal(() => new Error('disk full'))).rejects.toThrow('disk full');
    await expect(seal(() => new DomainError('forbidden', 'refused after all'))).rejects.toThrow('refused after all');
    const after = await scrape(t);

    expect(grew(before, after, 'countersign_artifact_write_failures_total')).toBe(1);
    expect(await t.prisma.artifact.count({ where: { kind: 'config.changed', canonical: { contains: 'f'.repeat(64) } } })).toBe(0);
  });

  it('counts configuration reloads: a rejected file, then an accepted one', async () => {
    const file = path.join(t.configDir, 'policy.yaml');
    const good = fs.readFileSync(file, 'utf8');
    const before = await scrape(t);
    fs.writeFileSync(file, 'version: 1\nrules:\n  - id: broken\n    when: "action.type =="\n    outcome: approve\n    reason: x\n');
    await waitFor('a rejected reload', async () => grew(before, await scrape(t), 'countersign_config_reloads_total', { result: 'failed' }) === 1);
    fs.writeFileSync(file, `${good.trimEnd()}\n  - { id: metrics-reload, when: 'action.type == "metrics.reload"', outcome: approve, reason: added by a reload }\n`);
    await waitFor('an accepted reload', async () => grew(before, await scrape(t), 'countersign_config_reloads_total', { result: 'ok' }) === 1);
  });
});

describe('channel, delivery and queue metrics', () => {
  let t: QueueTest & { dropDatabase(): Promise<void> };
  let receiver: Receiver;
  const slack = new RecordingChannel('slack');
  beforeAll(async () => {
    receiver = await startReceiver();
    t = await startQueueTest({
      channels: [slack],
      modules: [deliveryModule],
      env: { COUNTERSIGN_CALLBACK_ALLOWLIST: `${receiver.url}/hooks/`, COUNTERSIGN_WEBHOOK_SECRET: 'decision-metrics-webhook-master-secret' },
    });
  });
  afterAll(async () => {
    await t?.stop();
    await t?.dropDatabase();
    await receiver?.close();
  });

  it('counts card posts by channel, result and the channel’s error code', async () => {
    slack.failNext('postCard', () => new ChannelError('slow down', true, 'rate_limited', 10), { target: '#ops' });
    const before = await scrape(t);
    const id = (await t.api('POST', '/v1/actions', { token: t.tokens['deploy-bot']!, body: queueIntents.slack })).body.id as string;
    await waitFor('the card, posted on the second try', () => slack.done('postCard', id).length === 1, 20_000);
    const after = await scrape(t);

    expect(grew(before, after, 'countersign_card_posts_total', { channel: 'slack', result: 'error', code: 'rate_limited' })).toBe(1);
    expect(grew(before, after, 'countersign_card_posts_total', { channel: 'slack', result: 'ok', code: '' })).toBeGreaterThanOrEqual(1);
  });

  it('counts webhook deliveries by result: a retry, then ok', async () => {
    receiver.respond('/hooks/metrics', [503, 200]);
    const before = await scrape(t);
    const payment = { action: { type: 'payment.send', resource: 'supplier/acme', params: { amount: 7 } }, authority: { changeTicket: 'CHG-2' }, callbackUrl: `${receiver.url}/hooks/metrics` };
    expect((await t.api('POST', '/v1/actions', { token: t.tokens['deploy-bot']!, body: payment })).body.status).toBe('approved');
    await receiver.waitFor('/hooks/metrics', 2, 30_000);
    await waitFor('the delivery recorded', async () => grew(before, await scrape(t), 'countersign_deliveries_total', { kind: 'webhook', result: 'ok' }) === 1, 10_000);
    const after = await scrape(t);

    expect(grew(before, after, 'countersign_deliveries_total', { kind: 'webhook', result: 'retry' })).toBe(1);
    expect(grew(before, after, 'countersign_deliveries_total', { kind: 'webhook', result: 'failed' })).toBe(0);
  });

  it('reports BullMQ job counts per queue and state', async () => {
    const text = await scrape(t);
    for (const queue of ['chat', 'timers', 'deliveries']) {
      for (const state of ['waiting', 'active', 'delayed', 'failed']) {
        expect(sample(text, 'countersign_queue_jobs', { queue, state }), `${queue} ${state}`).toBeGreaterThanOrEqual(0);
      }
    }
    // The escalation above left its reminder/expiry timers waiting as delayed jobs.
    expect(sample(text, 'countersign_queue_jobs', { queue: 'timers', state: 'delayed' })).toBeGreaterThan(0);
  });
});
