import { describe, expect, it } from 'vitest';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import {
  generateSigningKey,
  intentHash,
  keyringFromPem,
  privateKeyPem,
  ReleaseTokenError,
  signReleaseToken,
  verifyReleaseToken,
  type ReleaseTokenFailure,
} from '../src/index.ts';

const key = generateSigningKey();
const other = generateSigningKey();
const keys = new Map([[key.keyId, key.publicKey]]);
const now = new Date('2025-06-01T12:00:00Z');
const intent = { action: { type: 'environment.delete', resource: 'env/staging-42' }, risk: { class: 'destructive' } };
const hash = intentHash(intent);
const base = { audience: 'deployer', issuer: 'https://countersign.example' };

const token = await signReleaseToken({ key, actionId: 'act_a', intentHash: hash, ...base, ttlSeconds: 300, now });

async function rejection(promise: Promise<unknown>): Promise<ReleaseTokenFailure> {
  const err = await promise.then(() => null, (e: unknown) => e);
  expect(err).toBeInstanceOf(ReleaseTokenError);
  expect((err as ReleaseTokenError).code).toBe('unauthenticated');
  return (err as ReleaseTokenError).reason;
}

describe('release tokens', () => {
  it('carry kid, sub, aud, iss, iat, exp, jti and the intent hash', async () => {
    expect(decodeProtectedHeader(token)).toMatchObject({ alg: 'EdDSA', kid: key.keyId });
    const claims = await verifyReleaseToken(token, { keys, ...base, intentHash: hash, actionId: 'act_a', now });
    expect(claims).toMatchObject({ sub: 'act_a', aud: 'deployer', iss: base.issuer, intent_sha256: hash, iat: now.getTime() / 1000, exp: now.getTime() / 1000 + 300 });
    expect(claims.jti).toMatch(/^[A-Za-z0-9_-]{22}$/);
    const second = await signReleaseToken({ key, actionId: 'act_a', intentHash: hash, ...base, ttlSeconds: 300, now });
    expect(decodeJwt(second).jti).not.toBe(claims.jti);
  });

  it('verify against a JWKS as served at /.well-known/jwks.json', async () => {
    const jwks = keyringFromPem(privateKeyPem(other) + privateKeyPem(key), 't').jwks();
    await expect(verifyReleaseToken(token, { keys: jwks, ...base, now })).resolves.toMatchObject({ sub: 'act_a' });
  });

  it('refuse the wrong audience or issuer', async () => {
    expect(await rejection(verifyReleaseToken(token, { keys, ...base, audience: 'payments', now }))).toBe('wrong_audience');
    expect(await rejection(verifyReleaseToken(token, { keys, ...base, issuer: 'https://evil.example', now }))).toBe('wrong_issuer');
  });

  it('refuse a changed intent or another action (approving A never releases B)', async () => {
    const changed = intentHash({ ...intent, action: { ...intent.action, resource: 'env/production' } });
    expect(await rejection(verifyReleaseToken(token, { keys, ...base, intentHash: changed, now }))).toBe('intent_mismatch');
    expect(await rejection(verifyReleaseToken(token, { keys, ...base, actionId: 'act_b', now }))).toBe('wrong_action');
  });

  it('refuse an expired token and one from the future', async () => {
    const later = new Date(now.getTime() + 301_000);
    expect(await rejection(verifyReleaseToken(token, { keys, ...base, now: later }))).toBe('expired');
    await expect(verifyReleaseToken(token, { keys, ...base, now: new Date(now.getTime() + 299_000) })).resolves.toBeTruthy();
  });

  it('refuse the wrong key, an unknown kid and a tampered token', async () => {
    expect(await rejection(verifyReleaseToken(token, { keys: new Map([[key.keyId, other.publicKey]]), ...base, now }))).toBe('bad_signature');
    expect(await rejection(verifyReleaseToken(token, { keys: new Map([[other.keyId, other.publicKey]]), ...base, now }))).toBe('unknown_key');
    const jwksOther = keyringFromPem(privateKeyPem(other), 't').jwks();
    expect(await rejection(verifyReleaseToken(token, { keys: jwksOther, ...base, now }))).toBe('unknown_key');
    const [h, p, s] = token.split('.') as [string, string, string];
    const payload = JSON.parse(Buffer.from(p, 'base64url').toString());
    const forged = `${h}.${Buffer.from(JSON.stringify({ ...payload, sub: 'act_b' })).toString('base64url')}.${s}`;
    expect(await rejection(verifyReleaseToken(forged, { keys, ...base, now }))).toBe('bad_signature');
    expect(await rejection(verifyReleaseToken('not.a.token', { keys, ...base, now }))).toBe('malformed');
  });

  it('refuse to sign with a malformed intent hash or ttl', async () => {
    await expect(signReleaseToken({ key, actionId: 'a', intentHash: 'xyz', ...base, ttlSeconds: 60 })).rejects.toThrow(/intentHash/);
    await expect(signReleaseToken({ key, actionId: 'a', intentHash: hash, ...base, ttlSeconds: 0 })).rejects.toThrow(/ttlSeconds/);
  });
});
