import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { intents, startTestService, type ApiResponse, type TestService } from './support/service.ts';

// One answer per situation: however a missing reason is written (absent, null, empty, blank)
// the answer is 422 reason_required; a second cancel is 409 already_decided like a second
// vote; a vote or cancel after the expiry timer closed the action says `expired`.

let t: TestService;
beforeAll(async () => {
  t = await startTestService();
});
afterAll(async () => {
  await t?.stop();
});

const NO_REASONS: { label: string; body: Record<string, unknown> }[] = [
  { label: 'absent', body: {} },
  { label: 'null', body: { reason: null } },
  { label: 'empty', body: { reason: '' } },
  { label: 'blank', body: { reason: '   \t ' } },
];

function expectCode(res: ApiResponse, status: number, code: string, label: string): void {
  expect(res.status, `${label}: ${res.text.slice(0, 200)}`).toBe(status);
  expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  expect(res.body.code, label).toBe(code);
}

async function submit(body: unknown): Promise<string> {
  const res = await t.api('POST', '/v1/actions', { token: t.tokens['deploy-bot']!, body });
  expect(res.status, res.text).toBe(201);
  return res.body.id;
}

describe('one answer per situation', () => {
  it('a deny without a reason, however written: 422 reason_required', async () => {
    const id = await submit(intents.prodDelete);
    for (const { label, body } of NO_REASONS) {
      expectCode(await t.api('POST', `/v1/actions/${id}/votes`, { token: t.tokens.alice!, body: { decision: 'deny', ...body } }), 422, 'reason_required', `deny ${label}`);
    }
    expect((await t.api('GET', `/v1/actions/${id}`, { token: t.tokens['deploy-bot']! })).body.status).toBe('pending');
  });

  it('an approval where the rule requires a reason: 422 reason_required', async () => {
    const id = await submit({ action: { type: 'test.reason', resource: 'x' } });
    for (const { label, body } of NO_REASONS) {
      expectCode(await t.api('POST', `/v1/actions/${id}/votes`, { token: t.tokens.bob!, body: { decision: 'approve', ...body } }), 422, 'reason_required', `approve ${label}`);
    }
  });

  it('an override without a reason, however written: 422 reason_required', async () => {
    const id = await submit(intents.piiExport);
    for (const { label, body } of NO_REASONS) {
      expectCode(await t.api('POST', `/v1/actions/${id}/override`, { token: t.tokens.dave!, body }), 422, 'reason_required', `override ${label}`);
    }
  });

  it('a second cancel is 409 already_decided, like a second vote', async () => {
    const id = await submit(intents.prodDelete);
    expect((await t.api('POST', `/v1/actions/${id}/cancel`, { token: t.tokens['deploy-bot']!, body: {} })).status).toBe(200);
    expectCode(await t.api('POST', `/v1/actions/${id}/cancel`, { token: t.tokens['deploy-bot']!, body: {} }), 409, 'already_decided', 'second cancel');
  });

  it('a vote or a cancel after the expiry timer closed the action says expired', async () => {
    const id = await submit({ action: { type: 'test.short', resource: 'x' } });
    t.clock.advance(61_000);
    // What the expiry job runs when its timer fires.
    expect(await t.service.gate.expireIfDue(id)).toBe(true);
    expectCode(await t.api('POST', `/v1/actions/${id}/votes`, { token: t.tokens.alice!, body: { decision: 'approve', reason: 'late' } }), 409, 'expired', 'late vote');
    expectCode(await t.api('POST', `/v1/actions/${id}/cancel`, { token: t.tokens['deploy-bot']!, body: {} }), 409, 'expired', 'late cancel');
  });
});
