import { describe, expect, it } from 'vitest';
import { ChannelError } from '@countersign/core';
import { InvalidJobPayload } from '@countersign/queue';
import { RecordingChannel, waitFor } from './fakes/fake-channel.ts';
import { escalate, metric, queueIntents, queueTestsPerCase } from './fakes/queue-harness.ts';

// Failures sorted into retry and give up: a channel that says retrying cannot help is not
// retried and is counted; a 429 is retried after its Retry-After; other errors are retried
// with backoff; payloads are checked when enqueued and when consumed.

const start = queueTestsPerCase();

describe('queue engine: failures', () => {
  it('does not retry a channel error marked unrecoverable; the target is failed and counted, the others posted', async () => {
    const slack = new RecordingChannel('slack');
    slack.failNext('postCard', () => new ChannelError('channel not found', false, 'channel_not_found'), { target: '#sre-approvals', times: 5 });
    const t = await start({ channels: [slack] });
    const id = await escalate(t);

    // Given up on its first attempt (which the dispatcher runs): nothing is retried.
    await waitFor('job failed for good', async () => (await metric(t, /^countersign_jobs_failed_total\{job="post-cards",final="true"\}/)) === 1);
    expect(await metric(t, /^countersign_jobs_failed_total\{job="post-cards",final="false"\}/)).toBe(0);
    expect(slack.done('postCard', id).map((c) => c.target)).toEqual(['@bob']);
    const rows = await t.prisma.channelCard.findMany({ where: { actionId: id }, orderBy: { target: 'asc' } });
    expect(rows.map((r) => [r.target, r.state])).toEqual([
      ['#sre-approvals', 'failed'],
      ['@bob', 'posted'],
    ]);
    expect(rows[0]!.error).toMatch(/channel_not_found/);
    expect(await metric(t, /^countersign_channel_errors_total\{channel="slack",code="channel_not_found",retryable="false"\}/)).toBe(1);
    expect(await metric(t, /^countersign_jobs_failed_total\{job="post-cards",final="true"\}/)).toBe(1);

    // The sweeper does not bring the failed target back either.
    await new Promise((r) => setTimeout(r, 1_500));
    expect(slack.done('postCard', id)).toHaveLength(1);
  });

  it('honours Retry-After on a 429: the card is posted after the delay, once, without spending an attempt', async () => {
    const slack = new RecordingChannel('slack');
    slack.failNext('postCard', () => new ChannelError('rate limited', true, 'rate_limited', 1_200));
    const t = await start({ channels: [slack] });
    const before = Date.now();
    const id = await escalate(t, queueIntents.slack);
    await waitFor('card', () => slack.done('postCard', id).length === 1, 10_000);
    const posted = slack.done('postCard', id)[0]!.at;
    expect(posted - before).toBeGreaterThanOrEqual(1_200);
    const job = (await t.engine().queues.find('post-cards', { actionId: id, tier: 0 }))!;
    await waitFor('completed', async () => (await job.getState()) === 'completed');
    // BullMQ counts the finishing run as an attempt: one run, the deferral not counted.
    expect((await t.engine().queues.find('post-cards', { actionId: id, tier: 0 }))!.attemptsMade).toBe(1);
    expect(await metric(t, /^countersign_jobs_deferred_total\{job="post-cards",reason="rate_limited"\}/)).toBe(1);
    expect(await metric(t, /^countersign_channel_errors_total\{channel="slack",code="rate_limited",retryable="true"\}/)).toBe(1);
  });

  it('retries other errors with backoff, and posts once', async () => {
    const slack = new RecordingChannel('slack');
    slack.failNext('postCard', () => new Error('socket hang up'));
    slack.failNext('updateCard', () => new ChannelError('server error', true, 'internal_error'));
    const t = await start({ channels: [slack] });
    const id = await escalate(t, queueIntents.slack);
    await waitFor('card', () => slack.done('postCard', id).length === 1, 10_000);
    const job = (await t.engine().queues.find('post-cards', { actionId: id, tier: 0 }))!;
    await waitFor('completed', async () => (await job.getState()) === 'completed');
    // The first attempt (in the dispatcher) failed and queued the job, whose one run finished it.
    expect((await t.engine().queues.find('post-cards', { actionId: id, tier: 0 }))!.attemptsMade).toBe(1);
    expect(await metric(t, /^countersign_jobs_failed_total\{job="post-cards",final="false"\}/)).toBe(1);
    expect(await metric(t, /^countersign_jobs_completed_total\{job="post-cards"\}/)).toBe(1);

    await t.api('POST', `/v1/actions/${id}/votes`, { token: t.tokens.alice, body: { decision: 'approve', reason: 'ok' } });
    await waitFor('update retried', () => slack.done('updateCard', id).some((c) => c.status === 'approved'), 10_000);
    expect(await metric(t, /^countersign_channel_errors_total\{channel="slack",code="internal_error",retryable="true"\}/)).toBe(1);
  });

  it('paces posts to one channel target across actions', async () => {
    const slack = new RecordingChannel('slack');
    const t = await start({ channels: [slack], env: { COUNTERSIGN_CHANNEL_PACING_MS: 'slack=700' } });
    const ids = await Promise.all([escalate(t, queueIntents.slack), escalate(t, queueIntents.slack), escalate(t, queueIntents.slack)]);
    await waitFor('three cards', () => ids.every((id) => slack.done('postCard', id).length === 1), 15_000);
    const times = slack.done('postCard').map((c) => c.at).sort((a, b) => a - b);
    expect(times[1]! - times[0]!).toBeGreaterThanOrEqual(650);
    expect(times[2]! - times[1]!).toBeGreaterThanOrEqual(650);
    expect(await metric(t, /^countersign_jobs_deferred_total\{job="post-cards",reason="pacing"\}/)).toBeGreaterThanOrEqual(2);
  });

  it('paces card updates per conversation for channels that limit every operation (Teams), not for Slack', async () => {
    const teams = new RecordingChannel('teams');
    const t = await start({ channels: [teams], env: { COUNTERSIGN_CHANNEL_PACING_MS: 'teams=700' } });
    const id = await escalate(t, queueIntents.cards);
    await waitFor('teams card', () => teams.done('postCard', id).length >= 1, 15_000);
    for (const who of ['alice', 'bob']) {
      const res = await t.api('POST', `/v1/actions/${id}/votes`, { token: t.tokens[who], body: { decision: 'approve', reason: 'ok' } });
      expect(res.status).toBe(201);
    }
    await waitFor('final update', () => teams.done('updateCard', id).some((c) => c.status === 'approved'), 15_000);
    const target = teams.done('postCard', id)[0]!.target;
    const times = teams.calls.filter((c) => c.actionId === id && c.target === target && (c.op === 'postCard' || c.op === 'updateCard')).map((c) => c.at);
    for (let i = 1; i < times.length; i++) expect(times[i]! - times[i - 1]!).toBeGreaterThanOrEqual(650);
    expect(await metric(t, /^countersign_jobs_deferred_total\{job="update-cards",reason="pacing"\}/)).toBeGreaterThanOrEqual(1);
  });

  it('checks payloads when enqueued and again when consumed (a bad one fails without retry)', async () => {
    const slack = new RecordingChannel('slack');
    const t = await start({ channels: [slack] });
    const queues = t.engine().queues;
    await expect(queues.enqueue('post-cards', { actionId: 'act_x', tier: -1 })).rejects.toBeInstanceOf(InvalidJobPayload);
    await expect(queues.enqueue('expire', { actionId: 'act:x' })).rejects.toThrow(/actionId/);
    await expect(queues.enqueue('remind', { actionId: 'act_x', index: 0, extra: true } as never)).rejects.toThrow(/extra/);

    // Straight into BullMQ, past the catalog: the worker refuses it before any processor runs.
    const raw = await queues.queue('chat').add('post-cards', { actionId: 'act_x' }, { jobId: 'raw-bad', attempts: 5 });
    await waitFor('failed', async () => (await raw.getState()) === 'failed');
    const failed = (await queues.queue('chat').getJob('raw-bad'))!;
    expect(failed.attemptsMade).toBe(1);
    expect(failed.failedReason).toMatch(/invalid payload for job post-cards: tier/);
    const unknown = await queues.queue('timers').add('post-cards', { actionId: 'act_x', tier: 0 }, { jobId: 'wrong-queue', attempts: 5 });
    await waitFor('failed', async () => (await unknown.getState()) === 'failed');
    expect((await queues.queue('timers').getJob('wrong-queue'))!.failedReason).toMatch(/unknown job post-cards on queue timers/);
  });

  it('a decision\'s notice that fails for now is handed to a job of its own: told once, and the cards are not re-rendered for it', async () => {
    const slack = new RecordingChannel('slack', { unreachable: [] });
    slack.failNext('notifyPerson', () => new ChannelError('slack is having a moment', true, 'slack_webapi_platform_error'));
    const t = await start({ channels: [slack] });
    const id = await escalate(t, { ...queueIntents.slack, onBehalfOf: 'ivan' });
    await waitFor('card', () => slack.done('postCard', id).length === 1);
    const deny = await t.api('POST', `/v1/actions/${id}/votes`, { token: t.tokens.alice, body: { decision: 'deny', reason: 'not today' } });
    expect(deny.status, deny.text).toBe(201);
    await waitFor('requester told after the retry', () => slack.done('notifyPerson', id).length === 1, 15_000);
    expect(slack.done('notifyPerson', id)[0]).toMatchObject({ personId: 'ivan', status: 'refused' });
    // The decision's update-cards ran once, as its first attempt in the dispatcher (so the queue
    // never had it), and completed; the notice's retry ran in a notify-requester job of its own.
    const events = await t.prisma.outboxEvent.findMany({ where: { actionId: id, type: 'action.decided' } });
    expect(events).toHaveLength(1);
    expect(await t.engine().queues.find('update-cards', { actionId: id }, String(events[0]!.id))).toBeUndefined();
    expect(await metric(t, /^countersign_jobs_failed_total\{job="update-cards"/)).toBe(0);
    const rest = (await t.engine().queues.find('notify-requester', { actionId: id }, `rest-${events[0]!.id}`))!;
    await waitFor('notice job done', async () => (await rest.getState()) === 'completed');
    await new Promise((r) => setTimeout(r, 1_000));
    expect(slack.done('notifyPerson', id)).toHaveLength(1);
    expect(slack.done('updateCard', id).filter((c) => c.status === 'refused')).toHaveLength(1);
    const rows = await t.prisma.channelCard.findMany({ where: { actionId: id, target: { startsWith: 'notice/' } } });
    expect(rows.map((r) => `${r.target} ${r.state}`)).toEqual(['notice/refused/ivan sent']);
  });

  it('a decision\'s notice turned away with Retry-After is handed off to run after that wait, not at once', async () => {
    const slack = new RecordingChannel('slack', { unreachable: [] });
    slack.failNext('notifyPerson', () => new ChannelError('rate limited', true, 'rate_limited', 1_500));
    const t = await start({ channels: [slack] });
    const id = await escalate(t, { ...queueIntents.slack, onBehalfOf: 'ivan' });
    await waitFor('card', () => slack.done('postCard', id).length === 1);
    const deny = await t.api('POST', `/v1/actions/${id}/votes`, { token: t.tokens.alice, body: { decision: 'deny', reason: 'not today' } });
    expect(deny.status, deny.text).toBe(201);
    const [event] = await t.prisma.outboxEvent.findMany({ where: { actionId: id, type: 'action.decided' } });
    const rest = await waitFor('hand-off job', async () => t.engine().queues.find('notify-requester', { actionId: id }, `rest-${event!.id}`));
    expect(rest!.opts.delay).toBeGreaterThanOrEqual(1_500);
    await waitFor('requester told after the wait', () => slack.done('notifyPerson', id).length === 1, 15_000);
    expect(slack.done('notifyPerson', id)[0]!.at - rest!.timestamp).toBeGreaterThanOrEqual(1_500);
  });
});
