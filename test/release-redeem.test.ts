import { generateKeyPairSync } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signReleaseToken, verifyExport } from '@countersign/evidence';
import {
  ApiError,
  Countersign,
  createReleaseVerifier,
  ReleaseVerificationError,
  verifyRelease,
  type IntentInput,
} from '../packages/sdk/src/index.ts';
import { intents, startTestService, type TestService } from './support/service.ts';

// Release tokens downstream: approving A never releases B (amount, target, audience), and a
// token releases one execution (redeemed once, even under concurrency).

let t: TestService;
let agent: Countersign;
let downstream: Countersign;
let jwksUrl: string;

beforeAll(async () => {
  t = await startTestService();
  jwksUrl = `${t.url}/.well-known/jwks.json`;
  agent = new Countersign({ baseUrl: t.url, apiKey: t.tokens['deploy-bot']! });
  // The downstream service authenticates with a key of its own.
  downstream = new Countersign({ baseUrl: t.url, apiKey: t.tokens.grace! });
});
afterAll(async () => {
  await t?.stop();
});

/** Ticketed payments are approved by policy at once: a release token straight away. */
function payment(reference: string, amount = 950): IntentInput {
  return {
    action: { type: 'payment.send', resource: 'supplier/acme', params: { amount, currency: 'EUR', reference } },
    authority: { changeTicket: 'CHG-7' },
    justification: ' monthly invoice ',
  };
}

async function approved(intent: IntentInput): Promise<{ id: string; token: string }> {
  const { action, releaseToken } = await agent.authorize(intent);
  return { id: action.id, token: releaseToken };
}

async function rejection(promise: Promise<unknown>): Promise<ReleaseVerificationError> {
  const err = await promise.catch((e: unknown) => e);
  expect(err).toBeInstanceOf(ReleaseVerificationError);
  return err as ReleaseVerificationError;
}

describe('verifyRelease', () => {
  it('accepts the token for exactly the approved intent (as sent, before the server normalised it)', async () => {
    const intent = payment('inv-1');
    const { id, token } = await approved(intent);
    const claims = await verifyRelease(token, { jwksUrl, audience: 'countersign-release', issuer: 'countersign', intent, actionId: id });
    expect(claims).toMatchObject({ actionId: id, audience: 'countersign-release', issuer: 'countersign' });
    expect(claims.expiresAt.getTime() - claims.issuedAt.getTime()).toBe(300_000);
  });

  it('refuses it for a changed amount, a changed target, another audience or another action', async () => {
    const intent = payment('inv-2');
    const { token } = await approved(intent);
    const verifier = createReleaseVerifier({ jwksUrl, audience: 'countersign-release' });
    const changedAmount = { ...intent, action: { ...intent.action, params: { ...intent.action.params, amount: 9500 } } };
    const changedTarget = { ...intent, action: { ...intent.action, resource: 'supplier/mallory' } };
    expect((await rejection(verifier.verify(token, { intent: changedAmount }))).reason).toBe('intent_mismatch');
    expect((await rejection(verifier.verify(token, { intent: changedTarget }))).reason).toBe('intent_mismatch');
    expect((await rejection(verifyRelease(token, { jwksUrl, audience: 'payments-service', intent }))).reason).toBe('wrong_audience');
    expect((await rejection(verifier.verify(token, { intent, actionId: 'act_aaaaaaaaaaaaaaaaaaaa' }))).reason).toBe('wrong_action');
    expect((await verifier.verify(token, { intent })).jti).toMatch(/.+/);
  });

  it('refuses an expired token, a forged signature and a key it does not know', async () => {
    const intent = payment('inv-3');
    const { token } = await approved(intent);
    const later = new Date(Date.now() + 330_000); // past the 300 s lifetime and the 5 s skew allowance
    expect((await rejection(verifyRelease(token, { jwksUrl, audience: 'countersign-release', intent, now: later }))).reason).toBe('expired');

    const [header, payload, signature] = token.split('.');
    const flipped = signature!.startsWith('A') ? `B${signature!.slice(1)}` : `A${signature!.slice(1)}`;
    expect((await rejection(verifyRelease(`${header}.${payload}.${flipped}`, { jwksUrl, audience: 'countersign-release', intent }))).reason).toBe('bad_signature');

    const other = generateKeyPairSync('ed25519').publicKey;
    expect((await rejection(verifyRelease(token, { key: other, audience: 'countersign-release', intent }))).reason).toBe('bad_signature');
    const jwks = await (await fetch(jwksUrl)).json();
    await expect(verifyRelease(token, { key: jwks, audience: 'countersign-release', intent })).resolves.toMatchObject({ audience: 'countersign-release' });
  });
});

describe('POST /v1/releases/redeem', () => {
  it('redeems once; the second redemption is refused with already_redeemed', async () => {
    const intent = payment('inv-4');
    const { id, token } = await approved(intent);
    const redemption = await downstream.redeemRelease(token, { intent });
    expect(redemption).toMatchObject({ actionId: id, audience: 'countersign-release', redeemedBy: 'grace', actionType: 'payment.send' });
    const row = await t.prisma.releaseRedemption.findUniqueOrThrow({ where: { jti: redemption.jti } });
    expect(row).toMatchObject({ actionId: id, redeemedBy: 'grace' });

    const again = await downstream.redeemRelease(token).catch((e: unknown) => e);
    expect(again).toBeInstanceOf(ApiError);
    expect(again).toMatchObject({ status: 409, code: 'already_redeemed' });
    expect((again as ApiError).problem.actionId).toBe(id);
    // Not even the requester gets a second go.
    await expect(agent.redeemRelease(token)).rejects.toMatchObject({ code: 'already_redeemed' });
  });

  it('seals each redemption as a release.redeemed artifact in the chain; a refused second one seals nothing', async () => {
    const intent = payment('inv-11');
    const { id, token } = await approved(intent);
    const redemption = await downstream.redeemRelease(token, { intent });
    const sealed = await t.prisma.artifact.findMany({ where: { actionId: id, kind: 'release.redeemed' } });
    expect(sealed).toHaveLength(1);
    expect(JSON.parse(sealed[0]!.canonical).event).toEqual({
      kind: 'release.redeemed',
      actionId: id,
      intentHash: redemption.intentHash,
      actionType: 'payment.send',
      audience: 'countersign-release',
      redeemedBy: 'grace',
      tokenId: redemption.jti,
    });

    // Another token for the same approval and audience, by another person: refused, nothing sealed.
    const second = (await t.api('GET', `/v1/actions/${id}`, { token: t.tokens['deploy-bot'] })).body.releaseToken as string;
    const before = await t.prisma.artifact.count();
    const again = await t.api('POST', '/v1/releases/redeem', { token: t.tokens.alice, body: { token: second } });
    expect(again.status, again.text).toBe(409);
    expect(again.body).toMatchObject({ code: 'already_redeemed', actionId: id });
    expect(await t.prisma.artifact.count()).toBe(before);

    // In the chain: the export verifies offline, this artifact included.
    const exported = await t.api('GET', '/v1/audit/export?format=jsonl', { token: t.tokens.grace });
    const lines = exported.text.trim().split('\n');
    expect(await verifyExport(lines, t.service.keyring.publicKeys())).toMatchObject({ ok: true, records: before });
    const records = lines.map((line) => JSON.parse(line) as { kind: string; seq?: number; actionId?: string });
    expect(records.filter((r) => r.kind === 'release.redeemed' && r.actionId === id).map((r) => r.seq)).toEqual([Number(sealed[0]!.seq)]);
  });

  it('one approval is redeemed once, however many tokens were read for it', async () => {
    const { id, token } = await approved(payment('inv-9'));
    const second = (await t.api('GET', `/v1/actions/${id}`, { token: t.tokens['deploy-bot'] })).body.releaseToken as string;
    expect(second).not.toBe(token);
    expect((await downstream.redeemRelease(second)).actionId).toBe(id);
    await expect(downstream.redeemRelease(token)).rejects.toMatchObject({ status: 409, code: 'already_redeemed' });
    expect(await t.prisma.releaseRedemption.count({ where: { actionId: id } })).toBe(1);
  });

  it('exactly one of many simultaneous redemptions wins, each with its own token for the same approval', async () => {
    // Every read of an approved action mints a new token (new jti), so the jti key alone cannot
    // keep an approval to one execution: (actionId, audience) must. Several rounds, because a
    // race that is lost once may be won the next time.
    for (let round = 0; round < 5; round++) {
      const { id, token } = await approved(payment(`inv-5-${round}`));
      const tokens = [token];
      for (let i = 0; i < 7; i++) tokens.push((await t.api('GET', `/v1/actions/${id}`, { token: t.tokens['deploy-bot'] })).body.releaseToken);
      expect(new Set(tokens).size).toBe(8);
      const results = await Promise.all(
        tokens.map((releaseToken, i) => t.api('POST', '/v1/releases/redeem', { token: i % 2 ? t.tokens.grace : t.tokens.alice, body: { token: releaseToken } })),
      );
      const statuses = results.map((r) => r.status);
      expect(statuses.filter((s) => s === 201), `round ${round}: ${statuses.join(',')}`).toHaveLength(1);
      expect(statuses.filter((s) => s === 409), `round ${round}: ${statuses.join(',')}`).toHaveLength(7);
      const winner = results.find((r) => r.status === 201)!.body.jti as string;
      for (const lost of results.filter((r) => r.status === 409)) expect(lost.body).toMatchObject({ code: 'already_redeemed', actionId: id });
      const rows = await t.prisma.releaseRedemption.findMany({ where: { actionId: id } });
      expect(rows.map((r) => r.jti)).toEqual([winner]);
      const sealed = await t.prisma.artifact.findMany({ where: { actionId: id, kind: 'release.redeemed' } });
      expect(sealed.map((a) => JSON.parse(a.canonical).event.tokenId)).toEqual([winner]);
    }
  });

  it('the database itself holds one redemption per approval and audience', async () => {
    const { id } = await approved(payment('inv-10'));
    const row = { actionId: id, audience: 'countersign-release', redeemedBy: 'grace' };
    await t.prisma.releaseRedemption.create({ data: { ...row, jti: 'jti-first' } });
    await expect(t.prisma.releaseRedemption.create({ data: { ...row, jti: 'jti-second' } })).rejects.toMatchObject({ code: 'P2002' });
    // Another audience is another redemption.
    await t.prisma.releaseRedemption.create({ data: { ...row, audience: 'payments-service', jti: 'jti-third' } });
    expect(await t.prisma.releaseRedemption.count({ where: { actionId: id } })).toBe(2);
  });

  it('refuses a validly signed token for an action that is not approved (pending or refused) with not_approved', async () => {
    const pending = await agent.submit(intents.prodDelete as IntentInput);
    expect(pending.status).toBe('pending');
    const refused = await agent.submit(intents.piiExport as IntentInput);
    expect(refused.status).toBe('refused');
    for (const action of [pending, refused]) {
      // Signed with the service's own key: only the action's state can refuse it.
      const token = await signReleaseToken({
        key: t.service.keyring.active,
        actionId: action.id,
        intentHash: action.intentHash,
        audience: 'countersign-release',
        issuer: 'countersign',
        ttlSeconds: 300,
        now: t.clock.now(),
      });
      const res = await t.api('POST', '/v1/releases/redeem', { token: t.tokens.grace, body: { token } });
      expect(res.status, res.text).toBe(403);
      expect(res.body).toMatchObject({ code: 'invalid_release_token', reason: 'not_approved' });
      expect(await t.prisma.releaseRedemption.count({ where: { actionId: action.id } })).toBe(0);
      expect(await t.prisma.artifact.count({ where: { actionId: action.id, kind: 'release.redeemed' } })).toBe(0);
    }
  });

  it('checks the intent, the audience and the expiry before recording anything', async () => {
    const intent = payment('inv-6');
    const { token } = await approved(intent);
    const changed = { ...intent, action: { ...intent.action, params: { ...intent.action.params, amount: 1_000_000 } } };
    const mismatch = await t.api('POST', '/v1/releases/redeem', { token: t.tokens.grace, body: { token, intent: changed } });
    expect(mismatch.status).toBe(403);
    expect(mismatch.body).toMatchObject({ code: 'invalid_release_token', reason: 'intent_mismatch' });
    const audience = await t.api('POST', '/v1/releases/redeem', { token: t.tokens.grace, body: { token, audience: 'payments-service' } });
    expect(audience.body).toMatchObject({ code: 'invalid_release_token', reason: 'wrong_audience' });
    const badIntent = await t.api('POST', '/v1/releases/redeem', { token: t.tokens.grace, body: { token, intent: { action: {} } } });
    expect(badIntent.status).toBe(400);
    expect(badIntent.body.errors[0].field).toBe('intent.action.type');
    for (const notAnIntent of [null, 42, 'delete it']) {
      const res = await t.api('POST', '/v1/releases/redeem', { token: t.tokens.grace, body: { token, intent: notAnIntent } });
      expect(res.status).toBe(400);
      expect(res.body.errors.map((e: { field: string }) => e.field)).toEqual(['intent']);
    }
    // None of those consumed it.
    expect((await t.api('POST', '/v1/releases/redeem', { token: t.tokens.grace, body: { token, intent } })).status).toBe(201);

    const { token: late } = await approved(payment('inv-7'));
    t.clock.advance(301_000);
    try {
      const expired = await t.api('POST', '/v1/releases/redeem', { token: t.tokens.grace, body: { token: late } });
      expect(expired.status).toBe(403);
      expect(expired.body).toMatchObject({ code: 'invalid_release_token', reason: 'expired' });
    } finally {
      t.clock.advance(-301_000);
    }
  });

  it('refuses forged tokens and unauthenticated callers', async () => {
    const { token } = await approved(payment('inv-8'));
    const [header, payload] = token.split('.');
    const claims = JSON.parse(Buffer.from(payload!, 'base64url').toString());
    const forgedPayload = Buffer.from(JSON.stringify({ ...claims, sub: 'act_bbbbbbbbbbbbbbbbbbbb' })).toString('base64url');
    const forged = await t.api('POST', '/v1/releases/redeem', { token: t.tokens.grace, body: { token: `${header}.${forgedPayload}.${token.split('.')[2]}` } });
    expect(forged.body).toMatchObject({ code: 'invalid_release_token', reason: 'bad_signature' });
    expect((await t.api('POST', '/v1/releases/redeem', { body: { token } })).status).toBe(401);
    expect((await t.api('POST', '/v1/releases/redeem', { token: t.tokens.grace, body: { tokn: token } })).status).toBe(400);
  });
});
