import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { intents, startTestService, type TestService } from './support/service.ts';

let t: TestService;
beforeAll(async () => {
  t = await startTestService();
});
afterAll(async () => {
  await t?.stop();
});

/** Rows that bad input must never create. */
async function counts() {
  const p = t.prisma;
  return { actions: await p.action.count(), votes: await p.vote.count(), artifacts: await p.artifact.count() };
}

function expectProblem(res: { status: number; headers: Headers; body: any }, status: number, code: string) {
  expect(res.status).toBe(status);
  expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  expect(res.body).toMatchObject({ status, code, type: expect.stringContaining(code), title: expect.any(String) });
}

describe('bad input gets a clear problem and changes nothing', () => {
  it('rejects each kind of bad submission', async () => {
    const token = t.tokens['deploy-bot']!;
    const before = await counts();

    expectProblem(await t.api('POST', '/v1/actions', { token, rawBody: '{"action": {' }), 400, 'invalid_request');

    const wrongTypes = await t.api('POST', '/v1/actions', { token, body: { action: { type: 42, params: 'x' }, risk: { urgency: 'whenever' } } });
    expectProblem(wrongTypes, 400, 'invalid_intent');
    const fields = wrongTypes.body.errors.map((e: { field: string }) => e.field);
    expect(fields).toEqual(expect.arrayContaining(['action.type', 'action.params', 'risk.urgency']));

    const unknown = await t.api('POST', '/v1/actions', { token, body: { ...intents.read, actor: 'admin', action: { type: 'db.query', colour: 'red' } } });
    expectProblem(unknown, 400, 'invalid_intent');
    expect(unknown.body.errors.map((e: { field: string }) => e.field)).toEqual(expect.arrayContaining(['actor', 'action.colour']));

    expectProblem(await t.api('POST', '/v1/actions', { token, body: {} }), 400, 'invalid_intent');
    expectProblem(await t.api('POST', '/v1/actions', { token, body: [intents.read] }), 400, 'invalid_intent');
    expectProblem(await t.api('POST', '/v1/actions', { token, body: { action: { type: 'not a type' } } }), 400, 'invalid_intent');

    const huge = { ...intents.read, justification: 'x'.repeat(200_000) };
    expectProblem(await t.api('POST', '/v1/actions', { token, body: huge }), 413, 'payload_too_large');

    expectProblem(
      await t.api('POST', '/v1/actions', { token, rawBody: 'action=delete', headers: { 'content-type': 'application/x-www-form-urlencoded' } }),
      415,
      'unsupported_media_type',
    );
    expectProblem(await t.api('POST', '/v1/actions', { token, body: intents.read, headers: { 'idempotency-key': 'has space' } }), 400, 'invalid_request');

    expect(await counts()).toEqual(before);
  });

  it('refuses missing, malformed, unknown and revoked credentials', async () => {
    const before = await counts();
    const missing = await t.api('POST', '/v1/actions', { body: intents.read });
    expectProblem(missing, 401, 'unauthenticated');
    expect(missing.headers.get('www-authenticate')).toMatch(/^Bearer/);
    expectProblem(await t.api('POST', '/v1/actions', { body: intents.read, headers: { authorization: 'Basic YWxpY2U6eA==' } }), 401, 'unauthenticated');
    expectProblem(await t.api('POST', '/v1/actions', { token: 'cs_aaaaaaaaaa_' + 'A'.repeat(43), body: intents.read }), 401, 'unauthenticated');
    // A real prefix with a wrong secret.
    const forged = t.tokens['deploy-bot']!.slice(0, 14) + 'B'.repeat(43);
    expectProblem(await t.api('POST', '/v1/actions', { token: forged, body: intents.read }), 401, 'unauthenticated');

    const { token, key } = await t.service.keys.create('deploy-bot');
    expect((await t.api('POST', '/v1/actions', { token, body: intents.read })).status).toBe(201);
    await t.service.keys.revoke(key.id);
    expectProblem(await t.api('POST', '/v1/actions', { token, body: intents.read }), 401, 'unauthenticated');
    const after = await counts();
    expect(after.actions).toBe(before.actions + 1);
  });

  it('refuses votes with bad tokens or bad bodies and records nothing', async () => {
    const { body: action } = await t.api('POST', '/v1/actions', { token: t.tokens['deploy-bot'], body: intents.prodDelete });
    const before = await counts();
    const path = `/v1/actions/${action.id}/votes`;
    expectProblem(await t.api('POST', path, { body: { decision: 'approve' } }), 401, 'unauthenticated');
    expectProblem(await t.api('POST', path, { token: 'nope', body: { decision: 'approve' } }), 401, 'unauthenticated');
    const bad = await t.api('POST', path, { token: t.tokens.alice, body: { decision: 'yes', extra: 1 } });
    expectProblem(bad, 400, 'invalid_request');
    expect(bad.body.errors.map((e: { field: string }) => e.field)).toEqual(expect.arrayContaining(['decision', 'extra']));
    expectProblem(await t.api('POST', '/v1/actions/not-an-id/votes', { token: t.tokens.alice, body: { decision: 'approve' } }), 400, 'invalid_request');
    expectProblem(await t.api('GET', '/v1/actions/act_zzzzzzzzzzzzzzzzzzzz', { token: t.tokens.alice }), 404, 'not_found');
    expectProblem(await t.api('GET', '/v1/nothing-here'), 404, 'not_found');
    expect(await counts()).toEqual(before);
  });

  it('does not show an action to principals with no part in it', async () => {
    const { body: action } = await t.api('POST', '/v1/actions', { token: t.tokens['deploy-bot'], body: intents.prodDelete });
    expectProblem(await t.api('GET', `/v1/actions/${action.id}`, { token: t.tokens.frank }), 404, 'not_found');
    expect((await t.api('GET', `/v1/actions/${action.id}`, { token: t.tokens.alice })).status).toBe(200);
    expect((await t.api('GET', `/v1/actions/${action.id}`, { token: t.tokens.erin })).status).toBe(200);
  });
});

describe('operations', () => {
  it('serves liveness, readiness and metrics', async () => {
    expect((await t.api('GET', '/healthz')).status).toBe(200);
    const ready = await t.api('GET', '/readyz');
    expect(ready.status).toBe(200);
    // Readiness is "can this process decide" (Postgres); Redis shows in /healthz's detail.
    expect(ready.body.checks).toMatchObject({ db: 'ok' });
    expect((await t.api('GET', '/healthz')).body.dependencies).toMatchObject({ redis: 'ok' });
    const metrics = await t.api('GET', '/metrics');
    expect(metrics.text).toMatch(/http_request_duration_seconds_bucket/);
    expect(metrics.text).toMatch(/countersign_submissions_total\{verdict="escalate"\} [1-9]/);
  });
});
