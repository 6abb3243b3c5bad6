import { describe, expect, it } from 'vitest';
import { GENESIS_HASH } from '@countersign/contracts';
import { generateSigningKey, signReleaseToken } from '@countersign/evidence';
import { AUDIENCE, ISSUER, refuse } from './support/engine.ts';
import { eventOf, eventsFor } from './support/artifacts.ts';
import { org, pendingAction, refusal, vote } from './support/org.ts';

// SPEC "Release": a release token is redeemed once per approval and audience, only for an
// approved action and the exact intent, and each redemption is sealed as an artifact.

const INTENT = { action: { type: 'environment.delete', resource: 'env/prod' }, justification: 'decommission' };

/** An approved action and a release token for it, as its requester reads it. */
async function approved() {
  const e = org();
  e.directory.addAgent('deployer', 'olga');
  const bot = await e.callerFor('deploy-bot');
  const id = await pendingAction(e, undefined, 'deploy-bot', { justification: 'decommission' });
  await vote(e, id, 'carol');
  await vote(e, id, 'alice');
  const token = (await e.gate.read(id, bot)).releaseToken!;
  expect(token).toBeTruthy();
  const deployer = await e.callerFor('deployer');
  return { e, id, bot, token, deployer };
}

describe('release redemption', () => {
  it('redeems once and seals the redemption (action, audience, redeemer, token id) in the chain', async () => {
    const { e, id, token, deployer } = await approved();
    const r = await e.gate.redeem({ caller: deployer, token, audience: AUDIENCE, intent: INTENT });
    const action = (await e.store.findAction(id))!;
    expect(r).toMatchObject({ actionId: id, audience: AUDIENCE, intentHash: action.intentHash, actionType: 'environment.delete', redeemedBy: 'deployer' });
    expect(r.redeemedAt).toEqual(e.clock.now());
    expect(r.tokenId).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(eventOf(r.artifact)).toEqual({
      kind: 'release.redeemed', actionId: id, intentHash: action.intentHash, actionType: 'environment.delete',
      audience: AUDIENCE, redeemedBy: 'deployer', tokenId: r.tokenId,
    });
    expect(e.store.redemptions).toEqual([{ tokenId: r.tokenId, actionId: id, audience: AUDIENCE, redeemedBy: 'deployer', redeemedAt: r.redeemedAt }]);
    e.store.artifacts.forEach((a, i) => expect(a.prevHash).toBe(i === 0 ? GENESIS_HASH : e.store.artifacts[i - 1]!.hash));
  });

  it('already_redeemed: the same token twice, or a second token for the same approval and audience', async () => {
    const { e, id, bot, token, deployer } = await approved();
    const first = await e.gate.redeem({ caller: deployer, token, audience: AUDIENCE });
    const again = await refusal(e.gate.redeem({ caller: deployer, token, audience: AUDIENCE }));
    expect(again.code).toBe('already_redeemed');
    expect(again.extra).toEqual({ actionId: id, redeemedAt: first.redeemedAt.toISOString() });

    const another = (await e.gate.read(id, bot)).releaseToken!;
    expect(another).not.toBe(token);
    expect((await refusal(e.gate.redeem({ caller: deployer, token: another, audience: AUDIENCE }))).code).toBe('already_redeemed');
    expect(eventsFor(e.store.artifacts, id).filter((x) => x.kind === 'release.redeemed')).toHaveLength(1);
    expect(e.store.redemptions).toHaveLength(1);
  });

  it('two tokens redeemed at once: exactly one wins', async () => {
    const { e, id, bot, token, deployer } = await approved();
    const other = (await e.gate.read(id, bot)).releaseToken!;
    const results = await Promise.allSettled([token, other].map((t) => e.gate.redeem({ caller: deployer, token: t, audience: AUDIENCE })));
    expect(results.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
    expect((results.find((r) => r.status === 'rejected') as PromiseRejectedResult).reason.code).toBe('already_redeemed');
  });

  it('invalid_release_token: another intent than the approved one (intent_mismatch)', async () => {
    const { e, token, deployer } = await approved();
    const err = await refusal(e.gate.redeem({ caller: deployer, token, audience: AUDIENCE, intent: { ...INTENT, justification: 'something else' } }));
    expect(err.code).toBe('invalid_release_token');
    expect(err.extra).toEqual({ reason: 'intent_mismatch' });
    expect(e.store.redemptions).toEqual([]);
  });

  it('invalid_request: a malformed intent, named field by field, before the token is looked at', async () => {
    const { e, deployer } = await approved();
    const err = await refusal(e.gate.redeem({ caller: deployer, token: 'not-a-token', audience: AUDIENCE, intent: { action: { type: 'Nope' } } }));
    expect(err.code).toBe('invalid_request');
    expect(err.issues.map((i) => i.field)).toEqual(['intent.action.type']);
  });

  it('invalid_release_token: another audience, an expired token, a forged or garbled one', async () => {
    const { e, id, token, deployer } = await approved();
    const reasonOf = async (t: string, audience = AUDIENCE) => (await refusal(e.gate.redeem({ caller: deployer, token: t, audience }))).extra.reason;
    expect(await reasonOf(token, 'billing')).toBe('wrong_audience');
    const forged = await signReleaseToken({ key: generateSigningKey(), actionId: id, intentHash: (await e.store.findAction(id))!.intentHash, audience: AUDIENCE, issuer: ISSUER, ttlSeconds: 60, now: e.clock.now() });
    expect(await reasonOf(forged)).toBe('unknown_key');
    expect(await reasonOf('garbage')).toBe('malformed');
    e.clock.advance(301);
    expect(await reasonOf(token)).toBe('expired');
    expect(e.store.redemptions).toEqual([]);
  });

  it('invalid_release_token (not_approved): a token for an action that is not approved, or does not exist', async () => {
    const e = org();
    e.directory.addAgent('deployer', 'olga');
    const deployer = await e.callerFor('deployer');
    const pending = await pendingAction(e);
    const refused = (await refuse(e, await e.callerFor('deploy-bot'), [])).id;
    for (const actionId of [pending, refused, 'act_missing']) {
      const token = await signReleaseToken({ key: e.store.signingKey, actionId, intentHash: 'b'.repeat(64), audience: AUDIENCE, issuer: ISSUER, ttlSeconds: 60, now: e.clock.now() });
      const err = await refusal(e.gate.redeem({ caller: deployer, token, audience: AUDIENCE }));
      expect(err.code).toBe('invalid_release_token');
      expect(err.extra).toEqual({ reason: 'not_approved' });
    }
    expect(e.store.redemptions).toEqual([]);
  });

  it('an overridden refusal is approved and redeemable like any approval', async () => {
    const e = org();
    e.directory.addAgent('deployer', 'olga');
    const bot = await e.callerFor('deploy-bot');
    const id = (await refuse(e, bot, ['incident-commander'])).id;
    await e.gate.override({ actionId: id, personId: 'ivan', reason: 'outage' });
    const token = (await e.gate.read(id, bot)).releaseToken!;
    const r = await e.gate.redeem({ caller: await e.callerFor('deployer'), token, audience: AUDIENCE });
    expect(r.actionId).toBe(id);
  });

  it('unauthenticated: the redeeming key was revoked; nothing is recorded', async () => {
    const { e, token, deployer } = await approved();
    await e.keys.revoke(deployer.keyId);
    expect((await refusal(e.gate.redeem({ caller: deployer, token, audience: AUDIENCE }))).code).toBe('unauthenticated');
    expect(e.store.redemptions).toEqual([]);
    expect(e.store.artifacts.at(-1)!.kind).toBe('key.revoked');
  });
});
