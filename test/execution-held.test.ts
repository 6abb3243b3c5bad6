import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DeliveryError, destinationAllowlist, type DecisionDelivery } from '@countersign/core';
import { DecisionDeliveries, deliveryModule, send } from '@countersign/delivery';
import { verifyExport } from '@countersign/evidence';
import { workerModule } from '@countersign/worker';
import { startReceiver, type Receiver } from '../modules/delivery/test/receiver.ts';
import { Countersign, verifyRelease, type Action, type IntentInput } from '../packages/sdk/src/index.ts';
import { freshDatabase, randomQueuePrefix, type TestDatabase } from './support/database.ts';
import { startTestService, type TestService } from './support/service.ts';

// Held execution: the rule names an executor, and countersign itself sends that request once
// people approve. Once, with the action id as Idempotency-Key, retried when the executor is
// unavailable, recorded in the artifact chain; never for a refused or expired action.

const FIXTURES = path.resolve(import.meta.dirname, 'fixtures');
let receiver: Receiver;
let db: TestDatabase;
let t: TestService;
let cs: Countersign;
let workDir: string;

function executorRules(base: string): string {
  return `
  - id: held-restart
    when: 'action.type == "service.restart"'
    outcome: escalate
    reason: restarts are run by countersign once an SRE lead approves
    requirement:
      approvers: [{ role: sre-lead, count: 1 }]
      expiresIn: 60s
    executor:
      url: ${base}/exec/services/{{action.resource}}/restart
      method: POST
      headers: { Authorization: "Bearer {{secret.OPS_TOKEN}}", X-Requested-By: "{{actionId}}" }
      body: { service: "{{action.resource}}", replicas: "{{action.params.replicas}}", why: "{{justification}}" }
`;
}

function policyFile(rules: string): string {
  const file = path.join(workDir, `policy-${Math.random().toString(36).slice(2)}.yaml`);
  fs.writeFileSync(file, fs.readFileSync(path.join(FIXTURES, 'policy.yaml'), 'utf8').trimEnd() + '\n' + rules);
  return file;
}

beforeAll(async () => {
  workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'countersign-exec-'));
  receiver = await startReceiver();
  db = await freshDatabase();
  t = await startTestService({
    databaseUrl: db.url,
    modules: [workerModule, deliveryModule],
    env: {
      DATABASE_URL: db.url,
      // The delivery module reads the policy too, to check executor destinations at boot.
      COUNTERSIGN_POLICY: policyFile(executorRules(receiver.url)),
      COUNTERSIGN_QUEUE_PREFIX: randomQueuePrefix(),
      COUNTERSIGN_EXECUTOR_ALLOWLIST: `${receiver.url}/exec/`,
      COUNTERSIGN_EXECUTOR_SECRET_OPS_TOKEN: 'ops-token-123',
    },
  });
  cs = new Countersign({ baseUrl: t.url, apiKey: t.tokens['deploy-bot']! });
});
afterAll(async () => {
  await t?.stop();
  await db?.drop();
  await receiver?.close();
  fs.rmSync(workDir, { recursive: true, force: true });
});

function restart(service: string, replicas = 3): IntentInput {
  return { action: { type: 'service.restart', resource: service, params: { replicas } }, justification: 'memory leak' };
}

async function approve(id: string) {
  const res = await t.api('POST', `/v1/actions/${id}/votes`, { token: t.tokens.alice, body: { decision: 'approve', reason: 'go' } });
  expect(res.status, res.text).toBe(201);
}

async function executedArtifacts(actionId: string) {
  const rows = await t.prisma.artifact.findMany({ where: { actionId, kind: 'action.executed' } });
  return rows.map((r) => JSON.parse(r.canonical).event);
}

const deliveries = (): DecisionDelivery => t.service.context.deliveries!;

describe('held execution', () => {
  it('sends the executor request once after approval, with the idempotency key, and seals the result', async () => {
    const intent = restart('checkout');
    const pending = await cs.submit(intent);
    expect(pending.status).toBe('pending');
    expect(pending.requirement).toMatchObject({ executor: { method: 'POST', url: `${receiver.url}/exec/services/{{action.resource}}/restart` } });
    await new Promise((r) => setTimeout(r, 500));
    expect(receiver.to('/exec/services/checkout')).toHaveLength(0); // held

    await approve(pending.id);
    // The requesting agent sees the approval and its normalized intent, but no release token:
    // the executor gets the only one, so one approval has one way to run (review s14 b).
    const agentView = await t.api('GET', `/v1/actions/${pending.id}`, { token: t.tokens['deploy-bot'] });
    expect(agentView.body.status).toBe('approved');
    expect(agentView.body.releaseToken).toBeUndefined();
    expect(agentView.body.normalizedIntent).toBeDefined();
    const [call] = await receiver.waitFor('/exec/services/checkout', 1);
    expect(call!.method).toBe('POST');
    expect(call!.path).toBe('/exec/services/checkout/restart');
    expect(call!.headers['idempotency-key']).toBe(pending.id);
    expect(call!.headers.authorization).toBe('Bearer ops-token-123');
    expect(call!.headers['x-requested-by']).toBe(pending.id);
    expect(JSON.parse(call!.body)).toEqual({ service: 'checkout', replicas: 3, why: 'memory leak' });
    // The executor can prove that exactly this intent was approved.
    const claims = await verifyRelease(String(call!.headers['countersign-release-token']), { jwksUrl: `${t.url}/.well-known/jwks.json`, audience: 'countersign-release', intent });
    expect(claims.actionId).toBe(pending.id);

    await expect.poll(async () => (await executedArtifacts(pending.id)).length, { timeout: 5_000 }).toBe(1);
    expect((await executedArtifacts(pending.id))[0]).toEqual({
      kind: 'action.executed',
      actionId: pending.id,
      intentHash: pending.intentHash,
      actionType: 'service.restart',
      result: 'succeeded',
      method: 'POST',
      destination: receiver.url,
      idempotencyKey: pending.id,
      responseStatus: 200,
      attempts: 1,
      error: null,
    });
    expect(await t.prisma.delivery.findUnique({ where: { actionId_kind: { actionId: pending.id, kind: 'execution' } } })).toMatchObject({ state: 'delivered', attempts: 1, responseStatus: 200 });

    // Once: the job running again (a retry, a re-dispatched event) sends nothing more.
    await deliveries().execute(pending.id, 2, { maxAttempts: 10 });
    await new Promise((r) => setTimeout(r, 1_000));
    expect(receiver.to('/exec/services/checkout')).toHaveLength(1);
    expect(await executedArtifacts(pending.id)).toHaveLength(1);
    // The new artifact kind is part of the chain: the export still verifies end to end.
    const jsonl = await t.api('GET', '/v1/audit/export?format=jsonl', { token: t.tokens.grace });
    expect(jsonl.text).toContain('"kind":"action.executed"');
    expect(await verifyExport(jsonl.text.trim().split('\n'), t.service.keyring.publicKeys())).toMatchObject({ ok: true });
  });

  it("the SDK's authorize() says countersign runs the action itself, and hands the agent nothing to run", async () => {
    const authorizing = cs.authorize(restart('catalog'), { timeout: 30_000 });
    const outcome = authorizing.then(
      () => 'resolved',
      (err: Error) => err.message,
    );
    const action = await waitForRow(() => t.prisma.action.findFirst({ where: { status: 'pending', intent: { path: ['action', 'resource'], equals: 'catalog' } } }));
    await approve(action.id);
    expect(await outcome).toMatch(/approved and countersign runs it itself/);
    await receiver.waitFor('/exec/services/catalog', 1);
  });

  it('retries an executor that is unavailable, with the same idempotency key', async () => {
    receiver.respond('/exec/services/payments', [503, 200]);
    const pending = await cs.submit(restart('payments', 2));
    await approve(pending.id);
    const calls = await receiver.waitFor('/exec/services/payments', 2, 20_000);
    expect(calls.map((c) => c.headers['idempotency-key'])).toEqual([pending.id, pending.id]);
    await expect.poll(async () => (await executedArtifacts(pending.id))[0]?.result, { timeout: 5_000 }).toBe('succeeded');
    expect((await executedArtifacts(pending.id))[0]).toMatchObject({ attempts: 2, responseStatus: 200 });
  });

  it('records a refusal by the executor (4xx) as a failed execution, without retrying', async () => {
    receiver.respond('/exec/services/ledger', [422]);
    const pending = await cs.submit(restart('ledger'));
    await approve(pending.id);
    await receiver.waitFor('/exec/services/ledger', 1);
    await expect.poll(async () => (await executedArtifacts(pending.id))[0]?.result, { timeout: 5_000 }).toBe('failed');
    expect((await executedArtifacts(pending.id))[0]).toMatchObject({ responseStatus: 422, attempts: 1, error: 'HTTP 422' });
    await new Promise((r) => setTimeout(r, 2_500));
    expect(receiver.to('/exec/services/ledger')).toHaveLength(1);
  });

  it('never executes a refused action', async () => {
    const pending = await cs.submit(restart('search'));
    const deny = await t.api('POST', `/v1/actions/${pending.id}/votes`, { token: t.tokens.alice, body: { decision: 'deny', reason: 'not now' } });
    expect(deny.status).toBe(201);
    // Even if the job were run for it, the database says no.
    await expect(deliveries().execute(pending.id, 1, { maxAttempts: 10 })).rejects.toMatchObject({ retryable: false, code: 'not_approved' });
    await new Promise((r) => setTimeout(r, 1_500));
    expect(receiver.to('/exec/services/search')).toHaveLength(0);
    expect(await executedArtifacts(pending.id)).toHaveLength(0);
  });

  it('never executes an expired action', async () => {
    const pending: Action = await cs.submit(restart('billing'));
    t.clock.advance(61_000);
    try {
      expect(await t.service.gate.expireIfDue(pending.id)).toBe(true);
    } finally {
      t.clock.advance(-61_000);
    }
    await expect(deliveries().execute(pending.id, 1)).rejects.toBeInstanceOf(DeliveryError);
    // A late approval changes nothing either.
    const late = await t.api('POST', `/v1/actions/${pending.id}/votes`, { token: t.tokens.alice, body: { decision: 'approve', reason: 'late' } });
    expect(late.status).toBe(409);
    await new Promise((r) => setTimeout(r, 1_000));
    expect(receiver.to('/exec/services/billing')).toHaveLength(0);
  });

  it('re-checks the destination at execution: refused, recorded, sealed as failed, nothing sent', async () => {
    // A service without the queue, so only the delivery under test runs for this action.
    const other = await freshDatabase();
    const quiet = await startTestService({
      databaseUrl: other.url,
      modules: [deliveryModule],
      env: { COUNTERSIGN_POLICY: policyFile(executorRules(receiver.url)), COUNTERSIGN_EXECUTOR_ALLOWLIST: `${receiver.url}/exec/` },
    });
    try {
      const pending = await new Countersign({ baseUrl: quiet.url, apiKey: quiet.tokens['deploy-bot']! }).submit(restart('inventory'));
      await quiet.service.gate.vote({ actionId: pending.id, personId: 'alice', channel: 'api', decision: 'approve', reason: 'ok' });
      // As after a restart with a narrower allow-list than the policy was approved under.
      const narrower = new DecisionDeliveries({
        store: quiet.service.context.store,
        rows: quiet.service.context.db.deliveries(30_000),
        destinations: { webhook: destinationAllowlist([]), executor: destinationAllowlist(['https://ops.example.com/']) },
        webhookMaster: Buffer.from('x'.repeat(32)),
        release: quiet.service.gate.deps.release,
        executorSecret: () => 'tok',
        send,
        timeoutMs: 2_000,
      });
      const err = await narrower.execute(pending.id, 1, { maxAttempts: 10 }).catch((e: unknown) => e);
      expect(err).toMatchObject({ retryable: false, code: 'execution_refused' });
      const sealed = await quiet.prisma.artifact.findMany({ where: { actionId: pending.id, kind: 'action.executed' } });
      expect(sealed.map((a) => JSON.parse(a.canonical).event)).toEqual([
        expect.objectContaining({ result: 'failed', responseStatus: null, attempts: 0, error: expect.stringMatching(/destination is not allowed/) }),
      ]);
      // Final: the allowed delivery that runs later sends nothing and seals nothing more.
      await quiet.service.context.deliveries!.execute(pending.id, 1, { maxAttempts: 10 });
      expect(await quiet.prisma.artifact.count({ where: { actionId: pending.id, kind: 'action.executed' } })).toBe(1);
      expect(receiver.to('/exec/services/inventory')).toHaveLength(0);
    } finally {
      await quiet.stop();
      await other.drop();
    }
  });

  it('refuses to start when a policy executor points at a destination that is not allowed', async () => {
    const other = await freshDatabase();
    try {
      await expect(
        startTestService({
          databaseUrl: other.url,
          modules: [deliveryModule],
          env: { COUNTERSIGN_POLICY: policyFile(executorRules('https://unlisted.example.com')), COUNTERSIGN_EXECUTOR_ALLOWLIST: `${receiver.url}/exec/` },
        }),
      ).rejects.toThrow(/rule held-restart: executor destination https:\/\/unlisted\.example\.com is not an allowed destination/);
    } finally {
      await other.drop();
    }
  });
});

async function waitForRow<T>(read: () => Promise<T | null>): Promise<T> {
  for (let i = 0; i < 200; i++) {
    const row = await read();
    if (row) return row;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('no such row in time');
}
