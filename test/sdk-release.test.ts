import { describe, expect, it } from 'vitest';
import { generateSigningKey, signReleaseToken } from '@countersign/evidence';
import { createReleaseVerifier, intentHash, ReleaseVerificationError, verifyRelease, type IntentInput, type ReleaseVerifierOptions } from '../packages/sdk/src/index.ts';

// Tokens signed as the server signs them (@countersign/evidence): here rather than in
// packages/sdk/test, because the SDK depends on nothing of the server's, not even in its tests.
//
// The verifier's options are checked at run time too: a plain-JavaScript caller that leaves out
// `audience` would otherwise get jose's "no audience given, no audience checked", and a token
// minted for any other service would verify.

const key = generateSigningKey();
const intent: IntentInput = { action: { type: 'environment.delete', resource: 'env/prod-eu-1' } };

function tokenFor(audience: string): Promise<string> {
  return signReleaseToken({ key, actionId: 'act_aaaaaaaaaaaaaaaaaaaa', intentHash: intentHash(intent), audience, issuer: 'countersign', ttlSeconds: 300 });
}

/** As a plain-JavaScript caller could write it: types do not apply at run time. */
const loose = (opts: Record<string, unknown>) => opts as unknown as ReleaseVerifierOptions;

describe('release verifier options', () => {
  it('throws a TypeError when audience is missing, empty or not a string (instead of skipping the audience check)', async () => {
    const token = await tokenFor('some-other-service');
    for (const audience of [undefined, '', 42, ['countersign-release'], null]) {
      expect(() => createReleaseVerifier(loose({ key: key.publicKey, audience })), String(audience)).toThrow(TypeError);
      await expect(verifyRelease(token, { ...loose({ key: key.publicKey, audience }), intent }), String(audience)).rejects.toThrow(/audience/);
    }
    // With an audience, the same token is refused for what it is: someone else's.
    const err = await verifyRelease(token, { key: key.publicKey, audience: 'countersign-release', intent }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ReleaseVerificationError);
    expect((err as ReleaseVerificationError).reason).toBe('wrong_audience');
    await expect(verifyRelease(token, { key: key.publicKey, audience: 'some-other-service', intent })).resolves.toMatchObject({ audience: 'some-other-service' });
  });

  it('throws a TypeError for an empty issuer or a clock tolerance that would disable expiry', async () => {
    expect(() => createReleaseVerifier(loose({ key: key.publicKey, audience: 'a', issuer: '' }))).toThrow(/issuer/);
    for (const clockToleranceSeconds of [Number.NaN, Number.POSITIVE_INFINITY, -5, '5']) {
      expect(() => createReleaseVerifier(loose({ key: key.publicKey, audience: 'a', clockToleranceSeconds })), String(clockToleranceSeconds)).toThrow(/clockToleranceSeconds/);
    }
    // An expired token stays expired with a sane tolerance.
    const token = await tokenFor('a');
    const later = new Date(Date.now() + 3_600_000);
    const err = await verifyRelease(token, { key: key.publicKey, audience: 'a', clockToleranceSeconds: 0, intent, now: later }).catch((e: unknown) => e);
    expect((err as ReleaseVerificationError).reason).toBe('expired');
  });
});
