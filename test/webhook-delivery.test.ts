import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DeliveryError, destinationAllowlist } from '@countersign/core';
import { DecisionDeliveries, deliveryModule, loadWebhookMaster, send } from '@countersign/delivery';
import { JOBS } from '@countersign/queue';
import { workerModule } from '@countersign/worker';
import { run as webhookSecretCli } from '../apps/cli/src/commands/webhook-secret.ts';
import { startReceiver, type Receiver } from '../modules/delivery/test/receiver.ts';
import { ApiError, Countersign, verifyWebhook, type IntentInput } from '../packages/sdk/src/index.ts';
import { freshDatabase, randomQueuePrefix, type TestDatabase } from './support/database.ts';
import { intents, startTestService, type TestService } from './support/service.ts';

// Webhooks end to end: real Postgres, Redis and queue; a real HTTP receiver. A final decision
// with a callbackUrl becomes a signed POST, retried with backoff through the queue until the
// receiver takes it; only allowed destinations are ever called.

let receiver: Receiver;
let db: TestDatabase;
let t: TestService;
let cs: Countersign;
const keysDir = fs.mkdtempSync(path.join(os.tmpdir(), 'countersign-webhook-keys-'));

beforeAll(async () => {
  receiver = await startReceiver();
  db = await freshDatabase();
  t = await startTestService({
    databaseUrl: db.url,
    keysDir,
    modules: [workerModule, deliveryModule],
    env: {
      DATABASE_URL: db.url,
      COUNTERSIGN_KEYS_DIR: keysDir,
      COUNTERSIGN_QUEUE_PREFIX: randomQueuePrefix(),
      COUNTERSIGN_CALLBACK_ALLOWLIST: `${receiver.url}/hooks/`,
    },
  });
  cs = new Countersign({ baseUrl: t.url, apiKey: t.tokens['deploy-bot']! });
});
afterAll(async () => {
  await t?.stop();
  await db?.drop();
  await receiver?.close();
  fs.rmSync(keysDir, { recursive: true, force: true });
});

function approvedPayment(reference: string, callbackUrl: string): IntentInput {
  return {
    action: { type: 'payment.send', resource: 'supplier/acme', params: { amount: 120, reference } },
    authority: { changeTicket: 'CHG-9' },
    callbackUrl,
  };
}

async function deliveryRow(actionId: string, kind = 'webhook') {
  return t.prisma.delivery.findUnique({ where: { actionId_kind: { actionId, kind } } });
}

describe('webhook delivery', () => {
  it('retries a receiver that fails twice and delivers on attempt 3, signed with the key’s secret', async () => {
    receiver.respond('/hooks/flaky', [500, 503, 200]);
    const action = await cs.submit(approvedPayment('wh-1', `${receiver.url}/hooks/flaky`));
    expect(action.status).toBe('approved');

    const calls = await receiver.waitFor('/hooks/flaky', 3, 25_000);
    expect(calls.map((c) => c.headers['countersign-delivery-attempt'])).toEqual(['1', '2', '3']);
    // Retries back off as the job catalog says: retry n waits at least base·2^(n-1) less the
    // jitter (deliver-webhook: 2 s base, 50 % jitter → ≥ 1 s, then ≥ 2 s), never at once.
    const { baseMs, jitter } = JOBS['deliver-webhook'].backoff;
    const gaps = [calls[1]!.at - calls[0]!.at, calls[2]!.at - calls[1]!.at];
    expect(gaps[0]).toBeGreaterThanOrEqual(baseMs * (1 - jitter));
    expect(gaps[1]).toBeGreaterThanOrEqual(2 * baseMs * (1 - jitter));
    const eventIds = new Set(calls.map((c) => c.headers['countersign-event-id']));
    expect(eventIds.size).toBe(1);

    const secret = await cs.webhookSecret();
    expect(secret).toMatch(/^whsec_/);
    const last = calls[2]!;
    const event = verifyWebhook({ body: last.body, headers: last.headers, secret });
    expect(event).toMatchObject({ type: 'action.decided', attempt: 3, action: { id: action.id, status: 'approved', reasons: ['ticketed payments are fine'] } });
    expect(event.id).toBe([...eventIds][0]);
    // No bearer credential leaves in a webhook.
    expect(last.body).not.toContain('releaseToken');
    expect(last.headers['content-type']).toBe('application/json');

    await expect.poll(async () => (await deliveryRow(action.id))?.state, { timeout: 5_000 }).toBe('delivered');
    const row = await deliveryRow(action.id);
    expect(row).toMatchObject({ attempts: 3, responseStatus: 200, lastError: null, url: `${receiver.url}/hooks/flaky` });
    expect(row!.deliveredAt).toBeInstanceOf(Date);

    // Delivered is final: nothing more arrives.
    await new Promise((r) => setTimeout(r, 1_500));
    expect(receiver.to('/hooks/flaky')).toHaveLength(3);
  });

  it('delivers the decision of an escalated action once people decide', async () => {
    const intent = { ...intents.prodDelete, callbackUrl: `${receiver.url}/hooks/escalated` } as IntentInput;
    const pending = await cs.submit(intent);
    expect(pending.status).toBe('pending');
    const deny = await t.api('POST', `/v1/actions/${pending.id}/votes`, { token: t.tokens.bob, body: { decision: 'deny', reason: 'not today' } });
    expect(deny.status).toBe(201);
    const [call] = await receiver.waitFor('/hooks/escalated', 1);
    const event = verifyWebhook({ body: call!.body, headers: call!.headers, secret: await cs.webhookSecret() });
    expect(event.action).toMatchObject({ id: pending.id, status: 'refused', decidedBy: 'bob', decisionReason: 'denied by bob: not today' });
  });

  it('an override after a refusal is a second event, delivered on its own', async () => {
    const refused = await cs.submit({ ...intents.piiExport, callbackUrl: `${receiver.url}/hooks/override` } as IntentInput);
    expect(refused.status).toBe('refused');
    const secret = await cs.webhookSecret();
    const [first] = await receiver.waitFor('/hooks/override', 1);
    expect(verifyWebhook({ body: first!.body, headers: first!.headers, secret }).action.status).toBe('refused');

    const override = await t.api('POST', `/v1/actions/${refused.id}/override`, { token: t.tokens.dave, body: { reason: 'legal hold export, approved by the DPO' } });
    expect(override.status, override.text).toBe(200);
    const calls = await receiver.waitFor('/hooks/override', 2);
    const second = verifyWebhook({ body: calls[1]!.body, headers: calls[1]!.headers, secret });
    expect(second.action).toMatchObject({ id: refused.id, status: 'approved', override: { by: 'dave' } });
    expect(second.id).not.toBe(first!.headers['countersign-event-id']);
    // The receiver answers before the worker records the answer: wait for the row to say so.
    await expect.poll(async () => (await deliveryRow(refused.id, 'webhook.override'))?.state, { timeout: 5_000 }).toBe('delivered');
    expect(await deliveryRow(refused.id, 'webhook.override')).toMatchObject({ state: 'delivered', attempts: 1 });
  });

  it('gives up at once on a 4xx other than 408/429, and records why', async () => {
    receiver.respond('/hooks/gone', [410]);
    const action = await cs.submit(approvedPayment('wh-2', `${receiver.url}/hooks/gone`));
    await receiver.waitFor('/hooks/gone', 1);
    await expect.poll(async () => (await deliveryRow(action.id))?.state, { timeout: 5_000 }).toBe('failed');
    expect(await deliveryRow(action.id)).toMatchObject({ attempts: 1, responseStatus: 410, lastError: 'HTTP 410', deliveredAt: null });
    await new Promise((r) => setTimeout(r, 3_000));
    expect(receiver.to('/hooks/gone')).toHaveLength(1);
  });

  it('never follows a redirect out of the allow-list: the delivery fails with the 302', async () => {
    // The allowed receiver answers 302 to another server (not allowed); following it would let
    // a webhook escape COUNTERSIGN_CALLBACK_ALLOWLIST. Held execution sends through the same send().
    const elsewhere = await startReceiver();
    try {
      receiver.redirect('/hooks/moved', `${elsewhere.url}/hooks/moved`);
      const action = await cs.submit(approvedPayment('wh-5', `${receiver.url}/hooks/moved`));
      await receiver.waitFor('/hooks/moved', 1);
      await expect.poll(async () => (await deliveryRow(action.id))?.state, { timeout: 5_000 }).toBe('failed');
      expect(await deliveryRow(action.id)).toMatchObject({
        attempts: 1,
        responseStatus: 302,
        lastError: 'HTTP 302: redirects are not followed',
        deliveredAt: null,
        url: `${receiver.url}/hooks/moved`,
      });
      await new Promise((r) => setTimeout(r, 1_000));
      expect(elsewhere.requests).toHaveLength(0);
      expect(receiver.to('/hooks/moved')).toHaveLength(1);
    } finally {
      await elsewhere.close();
    }
  });

  it('refuses a callback destination that is not allowed, at submission, naming callbackUrl', async () => {
    const before = receiver.requests.length;
    for (const url of ['https://attacker.example.com/hooks/x', `${receiver.url}/admin/hooks`, `http://user:pw@127.0.0.1:${receiver.port}/hooks/x`]) {
      const err = await cs.submit(approvedPayment('wh-3', url)).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ApiError);
      expect(err).toMatchObject({ status: 400, code: 'invalid_intent' });
      expect((err as ApiError).problem.errors).toEqual([{ field: 'callbackUrl', message: expect.stringMatching(/not an allowed destination|credentials/) }]);
      // It says why, never what is allowed: the allow-list is not the caller's to read.
      expect(JSON.stringify((err as ApiError).problem)).not.toContain(`127.0.0.1:${receiver.port}/hooks/"`);
      expect(JSON.stringify((err as ApiError).problem)).not.toMatch(/allowed: /);
    }
    expect(await t.prisma.action.count({ where: { intent: { path: ['action', 'params', 'reference'], equals: 'wh-3' } } })).toBe(0);
    await new Promise((r) => setTimeout(r, 500));
    expect(receiver.requests.length).toBe(before);
  });

  it('checks the destination again when delivering (the allow-list may have shrunk)', async () => {
    const action = await cs.submit(approvedPayment('wh-4', `${receiver.url}/hooks/shrunk`));
    // A delivery whose configuration no longer allows the receiver (as after a restart with a
    // narrower COUNTERSIGN_CALLBACK_ALLOWLIST).
    const narrower = new DecisionDeliveries({
      store: t.service.context.store,
      rows: t.service.context.db.deliveries(30_000),
      destinations: { webhook: destinationAllowlist(['https://hooks.example.com/']), executor: destinationAllowlist([]) },
      webhookMaster: Buffer.from('x'.repeat(32)),
      release: t.service.gate.deps.release,
      executorSecret: () => undefined,
      send,
      timeoutMs: 2_000,
    });
    // Let the queue's own delivery (allowed) finish first, then remove its trace.
    await receiver.waitFor('/hooks/shrunk', 1);
    await expect.poll(async () => (await deliveryRow(action.id))?.state).toBe('delivered');
    await t.prisma.delivery.deleteMany({ where: { actionId: action.id } });

    const err = await narrower.deliverWebhook(action.id, 1).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DeliveryError);
    expect(err).toMatchObject({ retryable: false, code: 'destination_not_allowed' });
    expect(await deliveryRow(action.id)).toMatchObject({ state: 'failed', attempts: 0 });
    expect(receiver.to('/hooks/shrunk')).toHaveLength(1);
  });

  it('the CLI prints the same signing secret as the API, derived from the master in the keys folder', async () => {
    const keyId = (await t.prisma.apiKey.findFirstOrThrow({ where: { principalId: 'deploy-bot' } })).id;
    const out = new PassThrough();
    let stdout = '';
    out.on('data', (d) => (stdout += d));
    const code = await webhookSecretCli([keyId, '--json'], {
      stdout: out,
      stderr: new PassThrough(),
      env: { ...process.env, DATABASE_URL: db.url, COUNTERSIGN_KEYS_DIR: keysDir, COUNTERSIGN_POLICY: path.join(t.configDir, 'policy.yaml'), COUNTERSIGN_DIRECTORY: path.join(t.configDir, 'directory.yaml') },
      cwd: t.configDir,
    });
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toMatchObject({ keyId, secret: await cs.webhookSecret() });
    // Derived, not stored: the secret appears nowhere in the database.
    const master = loadWebhookMaster({ keysDir, create: false });
    expect(master.length).toBeGreaterThanOrEqual(32);
    const dump = JSON.stringify(await t.prisma.apiKey.findMany()) + JSON.stringify(await t.prisma.delivery.findMany());
    expect(dump).not.toContain(JSON.parse(stdout).secret);
    // Another key, another secret; no key, no secret.
    const other = new Countersign({ baseUrl: t.url, apiKey: t.tokens.alice! });
    expect(await other.webhookSecret()).not.toBe(await cs.webhookSecret());
    expect((await t.api('GET', '/v1/webhooks/signing-secret')).status).toBe(401);
  });
});
