import { generateKeyPairSync, randomUUID, type KeyObject } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, SignJWT, type JWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createReleaseVerifier, intentHash, ReleaseVerificationError, verifyRelease, type IntentInput } from '../src/index.ts';

// After a key rotation countersign's JWKS still lists the old key (old artifacts verify with it),
// marked `countersign_retired_at`. A retired key signs nothing after its retirement: a token it
// signed that is still valid after that instant is a forgery by whoever holds the old key (it
// may be why it was rotated) and must release nothing, as the server's own check says.

const intent: IntentInput = { action: { type: 'environment.delete', resource: 'env/prod-eu-1' } };
const audience = 'countersign-release';
const oldKey = generateKeyPairSync('ed25519');
const newKey = generateKeyPairSync('ed25519');
const retiredAt = new Date(Date.now() - 3_600_000); // rotated an hour ago

async function jwk(key: KeyObject, kid: string, extra: Record<string, unknown> = {}): Promise<JWK> {
  return { ...(await exportJWK(key)), kid, alg: 'EdDSA', use: 'sig', ...extra };
}

function sign(privateKey: KeyObject, kid: string, issuedAt = new Date()): Promise<string> {
  const iat = Math.floor(issuedAt.getTime() / 1000);
  return new SignJWT({ intent_sha256: intentHash(intent) })
    .setProtectedHeader({ alg: 'EdDSA', kid, typ: 'JWT' })
    .setSubject('act_aaaaaaaaaaaaaaaaaaaa')
    .setAudience(audience)
    .setIssuer('countersign')
    .setIssuedAt(iat)
    .setExpirationTime(iat + 300)
    .setJti(randomUUID())
    .sign(privateKey);
}

let jwks: { keys: JWK[] };
let server: http.Server;
let jwksUrl: string;
beforeAll(async () => {
  jwks = {
    keys: [
      await jwk(newKey.publicKey, 'key-new'),
      await jwk(oldKey.publicKey, 'key-old', { key_ops: ['verify'], countersign_last_seq: 10, countersign_retired_at: retiredAt.toISOString(), countersign_successor: 'key-new' }),
    ],
  };
  server = http.createServer((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(jwks)));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  jwksUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/.well-known/jwks.json`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

async function reasonOf(promise: Promise<unknown>): Promise<string> {
  const error = await promise.then(() => 'accepted', (err: unknown) => err);
  if (error === 'accepted') return 'accepted';
  expect(error).toBeInstanceOf(ReleaseVerificationError);
  return (error as ReleaseVerificationError).reason;
}

describe('release tokens signed by a retired key', () => {
  it('are refused (retired_key) through the JWKS URL, even backdated to before the retirement', async () => {
    const verifier = createReleaseVerifier({ jwksUrl, audience });
    expect(await reasonOf(verifier.verify(await sign(oldKey.privateKey, 'key-old'), { intent }))).toBe('retired_key');
    // iat is the signer's claim, so is the `now` it signs at: the check is on expiry.
    const backdated = await sign(oldKey.privateKey, 'key-old', new Date(retiredAt.getTime() - 60_000));
    expect(await reasonOf(verifier.verify(backdated, { intent, now: new Date(retiredAt.getTime() - 30_000) }))).toBe('retired_key');
    // The current key's tokens verify.
    expect(await reasonOf(verifier.verify(await sign(newKey.privateKey, 'key-new'), { intent }))).toBe('accepted');
  });

  it('are refused with the key set or the retired JWK given as `key`', async () => {
    const forged = await sign(oldKey.privateKey, 'key-old');
    expect(await reasonOf(verifyRelease(forged, { key: jwks, audience, intent }))).toBe('retired_key');
    expect(await reasonOf(verifyRelease(forged, { key: jwks.keys[1]!, audience, intent }))).toBe('retired_key');
  });

  it('a retirement instant that cannot be read counts as retired (fail closed)', async () => {
    const broken = { keys: [{ ...jwks.keys[1]!, countersign_retired_at: 'last tuesday' }] };
    expect(await reasonOf(verifyRelease(await sign(oldKey.privateKey, 'key-old'), { key: broken, audience, intent }))).toBe('retired_key');
  });

  it('a token that expired by the retirement still verifies against the retired key (as of its time)', async () => {
    const before = new Date(retiredAt.getTime() - 600_000);
    const token = await sign(oldKey.privateKey, 'key-old', before);
    expect(await reasonOf(verifyRelease(token, { key: jwks, audience, intent, now: new Date(before.getTime() + 60_000) }))).toBe('accepted');
  });
});
