import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deliveryModule } from '@countersign/delivery';
import { verifyExport } from '@countersign/evidence';
import { workerModule } from '@countersign/worker';
import { startReceiver, type Receiver } from '../modules/delivery/test/receiver.ts';
import { channelModule, RecordingChannel, waitFor } from './fakes/fake-channel.ts';
import { freshDatabase, randomQueuePrefix, type TestDatabase } from './support/database.ts';
import { startTestService, type TestService } from './support/service.ts';

// An override lifts a refusal, not the other rules' requirements. A purge is refused by a
// change freeze (the CTO may override) AND escalated to an SRE lead plus security, who hold
// its executor. Overriding the freeze must hand the action to those approvers — pending,
// cards posted, dual control, executor run only after their approval — never approve it.

const FIXTURES = path.resolve(import.meta.dirname, 'fixtures');
let receiver: Receiver;
let db: TestDatabase;
let t: TestService;
const slack = new RecordingChannel('slack');

function rules(base: string): string {
  return `
  - id: purge-freeze
    when: 'action.type == "env.purge"'
    outcome: refuse
    reason: purges are frozen this week
    override: { roles: [cto] }

  - id: purges-need-two
    when: 'action.type == "env.purge"'
    outcome: escalate
    reason: a purge needs an SRE lead and someone from security
    requirement:
      approvers: [{ role: sre-lead, count: 1 }, { role: security, count: 1 }]
      expiresIn: 30m
      channels: { slack: ['#purges'] }
    executor:
      url: ${base}/exec/purge/{{action.resource}}
      method: POST
`;
}

beforeAll(async () => {
  receiver = await startReceiver();
  db = await freshDatabase();
  const policy = fs.readFileSync(path.join(FIXTURES, 'policy.yaml'), 'utf8').trimEnd() + '\n' + rules(receiver.url);
  t = await startTestService({
    databaseUrl: db.url,
    policy,
    modules: [channelModule(slack), workerModule, deliveryModule],
    env: {
      DATABASE_URL: db.url,
      COUNTERSIGN_QUEUE_PREFIX: randomQueuePrefix(),
      COUNTERSIGN_SWEEP_SECONDS: '1',
      COUNTERSIGN_OUTBOX_POLL_MS: '250',
      COUNTERSIGN_CHANNEL_PACING_MS: 'slack=0',
      COUNTERSIGN_EXECUTOR_ALLOWLIST: `${receiver.url}/exec/`,
    },
  });
  // The delivery module reads the policy file from its own setting.
  expect(t.service.context.deliveries).toBeDefined();
}, 120_000);

afterAll(async () => {
  await t?.stop();
  await db?.drop();
  await receiver?.close();
});

const purge = { action: { type: 'env.purge', resource: 'eu-9', summary: 'Purge eu-9' }, context: { environment: 'production' } };

describe('override with escalate rules matched too', () => {
  it('goes on to escalation with their requirement, cards and executor, instead of being approved', async () => {
    const submitted = await t.api('POST', '/v1/actions', { token: t.tokens['deploy-bot'], body: purge });
    expect(submitted.status, submitted.text).toBe(201);
    expect(submitted.body).toMatchObject({ status: 'refused', verdict: 'refuse', ruleIds: ['purge-freeze'], overridable: { roles: ['cto'] } });
    expect(submitted.body.requirement).toBeUndefined();
    expect(submitted.body.releaseToken).toBeUndefined();
    const id = submitted.body.id as string;

    const overridden = await t.api('POST', `/v1/actions/${id}/override`, { token: t.tokens.dave, body: { reason: 'customer data must go today (INC-42)' } });
    expect(overridden.status, overridden.text).toBe(200);
    expect(overridden.body).toMatchObject({
      status: 'pending',
      override: { by: 'dave', reason: 'customer data must go today (INC-42)' },
      requirement: { groups: [{ role: 'sre-lead', count: 1 }, { role: 'security', count: 1 }], executor: { url: `${receiver.url}/exec/purge/{{action.resource}}`, method: 'POST' } },
      progress: { filled: 0, needed: 2 },
    });
    expect(overridden.body.releaseToken).toBeUndefined();
    // The escalation's own expiry, counted from the override (not from the submission).
    const left = Date.parse(overridden.body.expiresAt) - t.clock.now().getTime();
    expect(left).toBeGreaterThan(29 * 60_000);
    expect(left).toBeLessThanOrEqual(30 * 60_000);

    // Cards are posted as for any escalation.
    const [card] = await waitFor('the card in #purges', () => (slack.done('postCard', id).length ? slack.done('postCard', id) : undefined));
    expect(card).toMatchObject({ target: '#purges', status: 'pending', actionable: true });
    expect(card!.card!.requirement).toMatchObject({ filled: 0, needed: 2 });

    // Dual control: Carol holds both roles but fills one slot; the overrider is no shortcut.
    const carol = await t.api('POST', `/v1/actions/${id}/votes`, { token: t.tokens.carol, body: { decision: 'approve', reason: 'checked the backups' } });
    expect(carol.status, carol.text).toBe(201);
    expect(carol.body.action).toMatchObject({ status: 'pending', progress: { filled: 1, needed: 2 } });
    const waiting = await t.api('GET', `/v1/actions/${id}`, { token: t.tokens['deploy-bot'] });
    expect(waiting.body.status).toBe('pending');
    expect(receiver.to('/exec/purge')).toHaveLength(0); // held until approved

    const bob = await t.api('POST', `/v1/actions/${id}/votes`, { token: t.tokens.bob, body: { decision: 'approve', reason: 'no customer data left' } });
    expect(bob.status, bob.text).toBe(201);
    expect(bob.body.action).toMatchObject({ status: 'approved', override: { by: 'dave' } });

    // Their executor runs, once the escalation is approved.
    const [call] = await receiver.waitFor('/exec/purge/eu-9', 1);
    expect(call!.headers['idempotency-key']).toBe(id);
    await waitFor('the card shows the outcome', () => slack.done('updateCard', id).some((c) => c.status === 'approved' && !c.actionable));
    const last = slack.done('updateCard', id).filter((c) => c.status === 'approved').at(-1)!;
    expect(last.card!.outcome?.text).toMatch(/^Approved by Bob \(bob\) \(refusal overridden by Dave \(dave\): customer data must go today/);

    // The evidence: the policy's refusal, the override handing over to escalation, the votes,
    // the approval, the execution; the chain verifies.
    const kinds = (await t.prisma.artifact.findMany({ where: { actionId: id }, orderBy: { seq: 'asc' } })).map((a) => JSON.parse(a.canonical).event);
    expect(kinds.map((e) => e.kind)).toEqual(['action.decided', 'action.overridden', 'vote.recorded', 'vote.recorded', 'action.decided', 'action.executed']);
    expect(kinds[0]).toMatchObject({ status: 'refused', decidedBy: 'policy' });
    expect(kinds[1]).toMatchObject({ status: 'pending', personId: 'dave', reviewRequired: true, expiresAt: overridden.body.expiresAt });
    expect(kinds[1].requirement.groups).toEqual([{ role: 'sre-lead', count: 1 }, { role: 'security', count: 1 }]);
    expect(kinds[4]).toMatchObject({ status: 'approved', decidedBy: 'bob' });
    const exported = await t.api('GET', '/v1/audit/export', { token: t.tokens.grace });
    expect(await verifyExport(exported.text.trim().split('\n'), t.service.keyring.publicKeys())).toMatchObject({ ok: true });
  });

  it('a deny after the override refuses the action, and nothing runs', async () => {
    const { body } = await t.api('POST', '/v1/actions', { token: t.tokens['deploy-bot'], body: { ...purge, action: { ...purge.action, resource: 'eu-8' } } });
    const id = body.id as string;
    const overridden = await t.api('POST', `/v1/actions/${id}/override`, { token: t.tokens.dave, body: { reason: 'urgent' } });
    expect(overridden.body.status).toBe('pending');
    const deny = await t.api('POST', `/v1/actions/${id}/votes`, { token: t.tokens.judy, body: { decision: 'deny', reason: 'backups are not verified' } });
    expect(deny.status, deny.text).toBe(201);
    expect(deny.body.action).toMatchObject({ status: 'refused', decidedBy: 'judy', override: { by: 'dave' } });
    // A second override is not possible: the refusal was overridden once already.
    const again = await t.api('POST', `/v1/actions/${id}/override`, { token: t.tokens.dave, body: { reason: 'still urgent' } });
    expect(again.status).toBe(403);
    expect(again.body).toMatchObject({ code: 'not_overridable' });
    // A refusal plans no execution: no delivery row, no request.
    expect(await t.prisma.delivery.count({ where: { actionId: id, kind: 'execution' } })).toBe(0);
    expect(receiver.to('/exec/purge/eu-8')).toHaveLength(0);
  });

  it('without escalate rules matched, an override still approves at once (unchanged)', async () => {
    const res = await t.api('POST', '/v1/actions', { token: t.tokens['deploy-bot'], body: { action: { type: 'data.export', resource: 'customers' }, context: { attributes: { pii: true } } } });
    expect(res.body).toMatchObject({ status: 'refused', overridable: { roles: ['cto'] } });
    const overridden = await t.api('POST', `/v1/actions/${res.body.id}/override`, { token: t.tokens.dave, body: { reason: 'regulator asked' } });
    expect(overridden.status, overridden.text).toBe(200);
    expect(overridden.body).toMatchObject({ status: 'approved', override: { by: 'dave' } });
    expect(overridden.body.requirement).toBeUndefined();
  });
});
