import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyReleaseToken } from '@countersign/evidence';
import { intents, startTestService, type TestService } from './support/service.ts';

let t: TestService;
beforeAll(async () => {
  t = await startTestService({ env: { COUNTERSIGN_CALLBACK_ALLOWLIST: 'https://hooks.example.com/countersign/' } });
});
afterAll(async () => {
  await t?.stop();
});

const submit = (body: unknown, token = t.tokens['deploy-bot']!, headers?: Record<string, string>) =>
  t.api('POST', '/v1/actions', { token, body, headers });
const vote = (id: string, who: string, decision: 'approve' | 'deny', reason?: string) =>
  t.api('POST', `/v1/actions/${id}/votes`, { token: t.tokens[who]!, body: reason ? { decision, reason } : { decision } });

describe('policy outcomes over HTTP', () => {
  it('approves a read at once, with a release token bound to the intent and a sealed artifact', async () => {
    const res = await submit(intents.read);
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ status: 'approved', verdict: 'approve', ruleIds: ['reads'], reasons: ['reads are fine'] });
    expect(res.body.id).toMatch(/^act_/);
    expect(res.body.policyDigest).toMatch(/^[0-9a-f]{64}$/);
    expect(res.body.artifact).toMatchObject({ kind: 'action.decided', actionId: res.body.id });
    const jwks = (await t.api('GET', '/.well-known/jwks.json')).body;
    const claims = await verifyReleaseToken(res.body.releaseToken, {
      keys: jwks,
      audience: 'countersign-release',
      issuer: 'countersign',
      intentHash: res.body.intentHash,
    });
    expect(claims.sub).toBe(res.body.id);
    // A token for this intent never releases a different one.
    await expect(
      verifyReleaseToken(res.body.releaseToken, { keys: jwks, audience: 'countersign-release', issuer: 'countersign', intentHash: 'f'.repeat(64) }),
    ).rejects.toThrow();
  });

  it('refuses when no rule matches, and when a rule asks for missing authority', async () => {
    const none = await submit(intents.unmatched);
    expect(none.status).toBe(201);
    expect(none.body).toMatchObject({ status: 'refused', verdict: 'refuse', ruleIds: [] });
    expect(none.body.releaseToken).toBeUndefined();
    const noTicket = await submit({ action: { type: 'payment.send', params: { amount: 5 } } });
    expect(noTicket.body).toMatchObject({ status: 'refused', ruleIds: ['payments-need-a-ticket'] });
    const ticket = await submit({ action: { type: 'payment.send', params: { amount: 5 } }, authority: { changeTicket: 'CHG-1' } });
    expect(ticket.body).toMatchObject({ status: 'approved', ruleIds: ['payments-with-ticket'] });
  });

  it('refuses (fail closed) when a rule cannot be evaluated', async () => {
    // prod-delete reads context.environment without has(): absent → evaluation error → refuse.
    const res = await submit({ action: { type: 'environment.delete' } });
    expect(res.body.status).toBe('refused');
    expect(res.body.reasons.join(' ')).toMatch(/could not be evaluated/);
  });

  it('escalates with the requirement and its expiry', async () => {
    const res = await submit(intents.prodDelete);
    expect(res.body).toMatchObject({ status: 'pending', verdict: 'escalate', ruleIds: ['prod-delete'] });
    expect(res.body.requirement.groups).toEqual([
      { role: 'sre-lead', count: 1 },
      { role: 'security', count: 1 },
    ]);
    expect(res.body.progress).toMatchObject({ filled: 0, needed: 2 });
    expect(Date.parse(res.body.expiresAt) - Date.now()).toBeGreaterThan(29 * 60_000);
    expect(res.body.releaseToken).toBeUndefined();
  });
});

describe('votes', () => {
  it('two approvals from the right roles release the action and wake a waiting long-poll', async () => {
    const { body: action } = await submit(intents.prodDelete);
    const waiting = t.api('GET', `/v1/actions/${action.id}?wait=20`, { token: t.tokens['deploy-bot'] });
    const first = await vote(action.id, 'alice', 'approve', 'checked the runbook');
    expect(first.status).toBe(201);
    expect(first.body.decided).toBe(false);
    expect(first.body.action.progress).toMatchObject({ filled: 1, needed: 2, open: [{ role: 'security', count: 1 }] });
    const startedAt = Date.now();
    const second = await vote(action.id, 'bob', 'approve', 'security ok');
    expect(second.body.decided).toBe(true);
    // The release goes to the requesting side only: never to a decider or another reader.
    expect(second.body.action.status).toBe('approved');
    expect(second.body.action.releaseToken).toBeUndefined();
    const byApprover = await t.api('GET', `/v1/actions/${action.id}`, { token: t.tokens.alice });
    expect(byApprover.body.status).toBe('approved');
    expect(byApprover.body.releaseToken).toBeUndefined();
    const byOwner = await t.api('GET', `/v1/actions/${action.id}`, { token: t.tokens.erin });
    expect(byOwner.body.releaseToken).toBeUndefined();
    const woke = await waiting;
    // Woken by the decision, well before the 20 s wait ran out.
    expect(Date.now() - startedAt).toBeLessThan(10_000);
    expect(woke.body.status).toBe('approved');
    expect(woke.body.decidedBy).toBe('bob');
    expect(woke.body.releaseToken).toEqual(expect.any(String));
    expect(woke.body.progress.approvals).toEqual(
      expect.arrayContaining([
        { personId: 'alice', role: 'sre-lead' },
        { personId: 'bob', role: 'security' },
      ]),
    );
  });

  it('a long-poll waits on the decision bus, not by re-reading the database in a loop', async () => {
    const { body: action } = await submit(intents.prodDelete);
    const store = t.service.gate.deps.store;
    const original = store.findAction.bind(store);
    let reads = 0;
    store.findAction = async (id: string) => {
      if (id === action.id) reads++;
      return original(id);
    };
    try {
      const started = Date.now();
      const res = await t.api('GET', `/v1/actions/${action.id}?wait=3`, { token: t.tokens['deploy-bot'] });
      expect(res.body.status).toBe('pending');
      expect(Date.now() - started).toBeGreaterThanOrEqual(2_900);
      // One read before waiting (the answer is read by detailOf): a polling loop would read
      // many more times in 3 s.
      expect(reads).toBe(1);
    } finally {
      store.findAction = original;
    }
  });

  it('a decision committed between the long-poll\'s read and its wait wakes it at once', async () => {
    const { body: action } = await submit(intents.prodDelete);
    const store = t.service.gate.deps.store;
    const original = store.findAction.bind(store);
    let decidedInGap = false;
    store.findAction = async (id: string) => {
      const read = await original(id);
      if (id === action.id && !decidedInGap) {
        // The long-poll has read "pending"; the decision commits (and its NOTIFY goes out)
        // before the wait begins.
        decidedInGap = true;
        await vote(action.id, 'alice', 'approve', 'ok');
        await vote(action.id, 'bob', 'approve', 'ok');
      }
      return read;
    };
    try {
      // Were the gap missed, this would wait the full 60 s and the test time out.
      const res = await t.api('GET', `/v1/actions/${action.id}?wait=60`, { token: t.tokens['deploy-bot'] });
      expect(decidedInGap).toBe(true);
      expect(res.body.status).toBe('approved');
      expect(res.body.releaseToken).toEqual(expect.any(String));
    } finally {
      store.findAction = original;
    }
  }, 20_000);

  it('one person holding both roles fills only one slot (dual control)', async () => {
    const { body: action } = await submit(intents.prodDelete);
    const carol = await vote(action.id, 'carol', 'approve', 'ok');
    expect(carol.body.action).toMatchObject({ status: 'pending', progress: { filled: 1, needed: 2 } });
    const again = await vote(action.id, 'carol', 'approve', 'ok again');
    expect(again.status).toBe(409);
    expect(again.body.code).toBe('already_voted');
    // Alice (sre-lead only) still completes it: carol moves to the security slot.
    const alice = await vote(action.id, 'alice', 'approve', 'ok');
    expect(alice.body.action.status).toBe('approved');
  });

  it('a second holder of a filled role is not eligible', async () => {
    const { body: action } = await submit(intents.prodDelete);
    await vote(action.id, 'alice', 'approve', 'ok');
    const ivan = await vote(action.id, 'ivan', 'approve', 'me too');
    expect(ivan.status).toBe(403);
    expect(ivan.body.code).toBe('not_eligible');
    expect(ivan.body.detail).toMatch(/security/);
    // frank holds no role the action names: he may not read it, and a refused vote says no more
    // than reading would (not the requirement a 403 spells out).
    const frank = await vote(action.id, 'frank', 'approve', 'finance');
    expect(frank.status).toBe(404);
    expect(frank.body.code).toBe('not_found');
    expect(frank.text).not.toMatch(/security|sre-lead/);
    expect((await t.api('GET', `/v1/actions/${action.id}`, { token: t.tokens.frank })).status).toBe(404);
  });

  it('blocks self-approval: the agent owner, the requesting person, the person acted for', async () => {
    const { body: action } = await submit(intents.prodDelete);
    const owner = await vote(action.id, 'erin', 'approve', 'mine');
    expect(owner.status).toBe(403);
    expect(owner.body.code).toBe('self_approval');

    const byPerson = await submit(intents.prodDelete, t.tokens.alice!);
    expect((await vote(byPerson.body.id, 'alice', 'approve', 'mine')).body.code).toBe('self_approval');

    const onBehalf = await submit({ ...intents.prodDelete, onBehalfOf: 'bob' });
    expect(onBehalf.status).toBe(201);
    const bob = await vote(onBehalf.body.id, 'bob', 'approve', 'for me');
    expect(bob.body.code).toBe('self_approval');
  });

  it('lets the owner approve only where the rule allows owners', async () => {
    const { body: action } = await submit({ action: { type: 'test.owner' } }, t.tokens['owner-bot']);
    const res = await vote(action.id, 'ivan', 'approve');
    expect(res.status).toBe(201);
    expect(res.body.action.status).toBe('approved');
  });

  it('a deny needs a reason and ends the request as refused', async () => {
    const { body: action } = await submit(intents.prodDelete);
    const noReason = await vote(action.id, 'bob', 'deny');
    expect(noReason.body.code).toBe('reason_required');
    const deny = await vote(action.id, 'bob', 'deny', 'not during the incident');
    expect(deny.body.action).toMatchObject({ status: 'refused', decidedBy: 'bob' });
    const late = await vote(action.id, 'alice', 'approve', 'too late');
    expect(late.status).toBe(409);
    expect(late.body.code).toBe('already_decided');
  });

  it('a deny does not end the request where the rule says so', async () => {
    const { body: action } = await submit({ action: { type: 'test.two-leads' } });
    await vote(action.id, 'alice', 'deny', 'hmm');
    expect((await vote(action.id, 'ivan', 'approve', 'ok')).body.action.status).toBe('pending');
    expect((await vote(action.id, 'carol', 'approve', 'ok')).body.action.status).toBe('approved');
  });

  it('requires a reason with approvals where the rule says so', async () => {
    const { body: action } = await submit({ action: { type: 'test.reason' } });
    expect((await vote(action.id, 'bob', 'approve')).body.code).toBe('reason_required');
    expect((await vote(action.id, 'bob', 'approve', 'looked fine')).body.action.status).toBe('approved');
  });

  it('agents cannot vote; unknown actions are 404', async () => {
    const { body: action } = await submit(intents.prodDelete);
    const res = await t.api('POST', `/v1/actions/${action.id}/votes`, { token: t.tokens['owner-bot'], body: { decision: 'approve' } });
    expect(res.status).toBe(403);
    expect(res.body.code).toBe('forbidden');
    const missing = await vote('act_00000000000000000000', 'alice', 'approve', 'x');
    expect(missing.status).toBe(404);
  });
});

describe('no decision without its artifact', () => {
  it('if sealing the artifact fails, the vote and the decision roll back with it', async () => {
    const { body: action } = await submit(intents.prodDelete);
    await vote(action.id, 'alice', 'approve', 'ok');
    const store = t.service.gate.deps.store;
    const original = store.transaction.bind(store);
    // The real transaction, with the artifact append failing once the state changes are written.
    store.transaction = (fn) =>
      original((tx) =>
        fn(
          new Proxy(tx, {
            get(target, prop, receiver) {
              if (prop === 'appendArtifact') return async () => Promise.reject(new Error('signing device unavailable'));
              const value = Reflect.get(target, prop, receiver);
              return typeof value === 'function' ? value.bind(target) : value;
            },
          }),
        ),
      );
    const before = await t.prisma.artifact.count();
    try {
      const res = await vote(action.id, 'bob', 'approve', 'ok');
      expect(res.status).toBe(500);
    } finally {
      store.transaction = original;
    }
    expect(await t.prisma.artifact.count()).toBe(before);
    expect(await t.prisma.vote.count({ where: { actionId: action.id } })).toBe(1);
    expect((await t.prisma.action.findUniqueOrThrow({ where: { id: action.id } })).status).toBe('pending');
    // And with sealing back, the same vote decides it.
    expect((await vote(action.id, 'bob', 'approve', 'ok')).body.action.status).toBe('approved');
  });
});

describe('revoked keys inside the decision', () => {
  it('a vote with a key revoked after authentication records nothing', async () => {
    const { body: action } = await submit(intents.prodDelete);
    const { token, key } = await t.service.keys.create('alice');
    const caller = await t.service.keys.authenticate(token);
    expect(caller?.principal.id).toBe('alice');
    await t.service.keys.revoke(key.id);
    await expect(
      t.service.gate.vote({ actionId: action.id, personId: 'alice', channel: 'api', decision: 'approve', reason: 'ok', keyId: caller!.keyId }),
    ).rejects.toMatchObject({ code: 'unauthenticated' });
    expect(await t.prisma.vote.count({ where: { actionId: action.id } })).toBe(0);
  });
});

describe('expiry', () => {
  it('a vote after expiry approves nothing, even before any timer fired', async () => {
    const { body: action } = await submit({ action: { type: 'test.short' } });
    t.clock.advance(61_000);
    const res = await vote(action.id, 'alice', 'approve', 'late');
    expect(res.status).toBe(409);
    expect(res.body.code).toBe('expired');
    const read = await t.api('GET', `/v1/actions/${action.id}`, { token: t.tokens['deploy-bot'] });
    expect(read.body).toMatchObject({ status: 'expired', decidedBy: 'system' });
    expect(read.body.releaseToken).toBeUndefined();
  });

  it('a read after expiry shows it expired', async () => {
    const { body: action } = await submit({ action: { type: 'test.short' } });
    t.clock.advance(61_000);
    const read = await t.api('GET', `/v1/actions/${action.id}`, { token: t.tokens['deploy-bot'] });
    expect(read.body.status).toBe('expired');
    expect(read.body.artifact).toMatchObject({ kind: 'action.decided' });
  });
});

describe('cancel', () => {
  it('the requester withdraws; others may not; votes after it change nothing', async () => {
    const { body: action } = await submit(intents.prodDelete);
    const other = await t.api('POST', `/v1/actions/${action.id}/cancel`, { token: t.tokens.alice, body: {} });
    expect(other.status).toBe(403);
    const res = await t.api('POST', `/v1/actions/${action.id}/cancel`, { token: t.tokens['deploy-bot'], body: { reason: 'not needed' } });
    expect(res.status).toBe(200);
    expect(res.body.status).toBe('cancelled');
    const again = await t.api('POST', `/v1/actions/${action.id}/cancel`, { token: t.tokens['deploy-bot'] });
    // A second cancel answers like a second vote (one answer per situation).
    expect(again.status).toBe(409);
    expect(again.body).toMatchObject({ code: 'already_decided', actionStatus: 'cancelled' });
    expect((await vote(action.id, 'alice', 'approve', 'x')).body.code).toBe('already_decided');
  });

  it('cannot cancel a decided action', async () => {
    const { body: action } = await submit(intents.read);
    const res = await t.api('POST', `/v1/actions/${action.id}/cancel`, { token: t.tokens['deploy-bot'] });
    expect(res.status).toBe(409);
    expect(res.body.code).toBe('already_decided');
  });
});

describe('supervised override', () => {
  it('only a named role, with a reason, once; marked for review', async () => {
    const { body: action } = await submit(intents.piiExport);
    expect(action).toMatchObject({ status: 'refused', overridable: { roles: ['cto'] } });
    const path = `/v1/actions/${action.id}/override`;
    // alice may not read it (no role it names): not_found, as a GET would answer her.
    expect((await t.api('POST', path, { token: t.tokens.alice, body: { reason: 'need it' } })).body.code).toBe('not_found');
    expect((await t.api('POST', path, { token: t.tokens.dave, body: {} })).body.errors[0].field).toBe('reason');
    const ok = await t.api('POST', path, { token: t.tokens.dave, body: { reason: 'regulator request REF-42' } });
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ status: 'approved', override: { by: 'dave', reason: 'regulator request REF-42' } });
    expect(ok.body.artifact).toMatchObject({ kind: 'action.overridden' });
    expect(ok.body.releaseToken).toBeUndefined();
    const requester = await t.api('GET', `/v1/actions/${action.id}`, { token: t.tokens['deploy-bot'] });
    expect(requester.body.releaseToken).toEqual(expect.any(String));
    expect(JSON.parse(ok.body.artifact.canonical).event.reviewRequired).toBe(true);
    expect((await t.api('POST', path, { token: t.tokens.dave, body: { reason: 'again' } })).body.code).toBe('not_overridable');
  });

  it('nobody overrides a refusal of their own request', async () => {
    const { body: action } = await submit(intents.piiExport, t.tokens.dave);
    expect(action.status).toBe('refused');
    const res = await t.api('POST', `/v1/actions/${action.id}/override`, { token: t.tokens.dave, body: { reason: 'mine' } });
    expect(res.status).toBe(403);
    expect(res.body.code).toBe('self_approval');
  });

  it('a refusal without override roles cannot be overridden', async () => {
    const { body: action } = await submit(intents.unmatched);
    // The auditor reads every action, so the refusal tells her why; dave may not read it.
    const res = await t.api('POST', `/v1/actions/${action.id}/override`, { token: t.tokens.grace, body: { reason: 'x' } });
    expect(res.body.code).toBe('not_overridable');
    expect((await t.api('POST', `/v1/actions/${action.id}/override`, { token: t.tokens.dave, body: { reason: 'x' } })).body.code).toBe('not_found');
  });

  it('vote, override and cancel tell a caller who may not read the action no more than GET does', async () => {
    const { body: action } = await submit(intents.prodDelete);
    const asFrank = { token: t.tokens.frank };
    expect((await t.api('POST', `/v1/actions/${action.id}/votes`, { ...asFrank, body: { decision: 'approve', reason: 'ok' } })).body.code).toBe('not_found');
    expect((await t.api('POST', `/v1/actions/${action.id}/override`, { ...asFrank, body: { reason: 'x' } })).body.code).toBe('not_found');
    // Decided, the answer to a party is already_decided with its status; to frank still not_found.
    expect((await t.api('POST', `/v1/actions/${action.id}/cancel`, { token: t.tokens['deploy-bot'], body: {} })).status).toBe(200);
    const late = await t.api('POST', `/v1/actions/${action.id}/votes`, { ...asFrank, body: { decision: 'approve', reason: 'ok' } });
    expect(late.body.code).toBe('not_found');
    expect(late.text).not.toMatch(/cancel/);
    expect((await t.api('POST', `/v1/actions/${action.id}/votes`, { token: t.tokens.alice, body: { decision: 'approve', reason: 'ok' } })).body.code).toBe('already_decided');
  });
});

describe('callback destinations', () => {
  it('accepts an allowed callbackUrl and refuses any other, naming the field', async () => {
    const ok = await submit({ ...intents.read, callbackUrl: 'https://hooks.example.com/countersign/agent-1' });
    expect(ok.status).toBe(201);
    for (const url of ['https://evil.example.net/countersign/', 'https://hooks.example.com/other', 'http://user:pw@hooks.example.com/countersign/']) {
      const bad = await submit({ ...intents.read, callbackUrl: url });
      expect(bad.status).toBe(400);
      expect(bad.body.code).toBe('invalid_intent');
      expect(bad.body.errors[0].field).toBe('callbackUrl');
    }
  });
});

describe('delegation and idempotency', () => {
  it('onBehalfOf needs a delegating key and a directory person', async () => {
    const res = await submit({ ...intents.read, onBehalfOf: 'bob' }, t.tokens['owner-bot']);
    expect(res.status).toBe(403);
    expect(res.body.code).toBe('delegation_not_allowed');
    const unknown = await submit({ ...intents.read, onBehalfOf: 'nobody' });
    expect(unknown.status).toBe(400);
    expect(unknown.body.errors).toEqual([{ field: 'onBehalfOf', message: expect.stringContaining('nobody') }]);
  });

  it('the same Idempotency-Key and body return the first result; a different body conflicts', async () => {
    const key = `idem-${Date.now()}`;
    const first = await submit(intents.prodDelete, undefined, { 'idempotency-key': key });
    const again = await submit(intents.prodDelete, undefined, { 'idempotency-key': key });
    expect(first.status).toBe(201);
    expect(again.status).toBe(200);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(again.body.id).toBe(first.body.id);
    const other = await submit(intents.read, undefined, { 'idempotency-key': key });
    expect(other.status).toBe(409);
    expect(other.body.code).toBe('idempotency_conflict');
  });

  it('simultaneous submissions with one Idempotency-Key create one action', async () => {
    const key = `race-${Date.now()}`;
    const results = await Promise.all(Array.from({ length: 8 }, () => submit(intents.prodDelete, undefined, { 'idempotency-key': key })));
    const ids = new Set(results.map((r) => r.body.id));
    expect(ids.size).toBe(1);
    expect(results.every((r) => r.status === 200 || r.status === 201)).toBe(true);
    expect(results.filter((r) => r.status === 201)).toHaveLength(1);
  });
});
