import { type KeyObject } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { GENESIS_HASH, type ArtifactEvent, type SealedArtifact } from '@countersign/contracts';
import {
  generateSigningKey,
  intentHash,
  Keyring,
  keyringFromPem,
  privateKeyPem,
  publicKeysFromJwks,
  reconcileSigningKey,
  retirementsFromJwks,
  sealArtifact,
  sealTrailer,
  signReleaseToken,
  verifyExport,
  verifyReleaseToken,
  type KeyRetirement,
  type SigningKey,
  type VerifyReport,
} from '../src/index.ts';
import { eventAt } from './factories.ts';

// A rotated key is retired: the rotation is sealed in the chain (signed by the new key), the
// old key's range ends at the record before it, and nothing the old key signs after that
// verifies — whoever holds the leaked key can no longer forge history, trailers or tokens.

const oldKey = generateSigningKey();
const newKey = generateSigningKey();
const keys: Map<string, KeyObject> = new Map([oldKey, newKey].map((k) => [k.keyId, k.publicKey]));
const START = Date.parse('2025-03-01T09:00:00.000Z');
const atSecond = (i: number) => new Date(START + i * 1000);

/** A chain as the service writes it: old key up to `rotateAfter`, then the rotation, then the new key. */
function rotatedChain(total: number, rotateAfter: number, opts: { forge?: (seq: number) => SigningKey | undefined } = {}) {
  const artifacts: SealedArtifact[] = [];
  let prevHash = GENESIS_HASH;
  for (let seq = 1; seq <= total; seq++) {
    let key = seq <= rotateAfter ? oldKey : newKey;
    let event: ArtifactEvent = eventAt(seq);
    if (seq === rotateAfter + 1) event = { kind: 'signing-key.rotated', previousKeyId: oldKey.keyId, newKeyId: newKey.keyId, previousKeyLastSeq: rotateAfter };
    key = opts.forge?.(seq) ?? key;
    const a = sealArtifact({ seq, prevHash, at: atSecond(seq), event, key });
    artifacts.push(a);
    prevHash = a.hash;
  }
  return artifacts;
}

function trailerFor(artifacts: SealedArtifact[], key: SigningKey, exportedAt: Date) {
  const last = artifacts.at(-1)!;
  return sealTrailer({ records: artifacts.length, firstSeq: artifacts[0]!.seq, lastSeq: last.seq, lastHash: last.hash, from: null, to: null, exportedAt, key });
}

const lines = (artifacts: SealedArtifact[], trailer: ReturnType<typeof trailerFor>) => [...artifacts.map((a) => JSON.stringify(a)), JSON.stringify(trailer)];

function expectProblem(report: VerifyReport, expected: { line: number; seq?: number; code: string }) {
  expect(report.ok).toBe(false);
  expect(report.problems[0]).toMatchObject(expected);
}

describe('verify: a rotation sealed in the chain bounds the old key', () => {
  it('accepts the genuine chain: old key up to the rotation, the new key from it on', async () => {
    const chain = rotatedChain(20, 10);
    expect(chain[10]).toMatchObject({ seq: 11, kind: 'signing-key.rotated', keyId: newKey.keyId });
    const report = await verifyExport(lines(chain, trailerFor(chain, newKey, atSecond(30))), keys);
    expect(report).toMatchObject({ ok: true, records: 20 });
  });

  it('refuses a record signed by the old key after its rotation, though its signature is valid', async () => {
    // The leaked-key forgery: a well-formed, linked, correctly signed record at seq 15.
    const forged = rotatedChain(20, 10, { forge: (seq) => (seq === 15 ? oldKey : undefined) });
    const report = await verifyExport(lines(forged, trailerFor(forged, newKey, atSecond(30))), keys);
    expectProblem(report, { line: 15, seq: 15, code: 'retired_key' });
    expect(report.problems[0]!.message).toContain(`retired after seq 10`);
    expect(report.records).toBe(14);
  });

  it('refuses an export trailer signed by the retired key', async () => {
    const chain = rotatedChain(20, 10);
    const report = await verifyExport(lines(chain, trailerFor(chain, oldKey, atSecond(5))), keys);
    expectProblem(report, { line: 21, code: 'retired_key' });
    expect(report.problems[0]!.message).toMatch(/covers seq 20 .* retired after seq 10/);
  });

  it('refuses a rotation not signed by the key it introduces, or at the wrong seq', async () => {
    const wrongSigner = rotatedChain(12, 10, { forge: (seq) => (seq === 11 ? oldKey : undefined) });
    expectProblem(await verifyExport(lines(wrongSigner, trailerFor(wrongSigner, newKey, atSecond(30))), keys), { line: 11, seq: 11, code: 'bad_rotation' });

    const chain: SealedArtifact[] = [];
    let prevHash = GENESIS_HASH;
    for (let seq = 1; seq <= 3; seq++) {
      const event: ArtifactEvent = seq === 3 ? { kind: 'signing-key.rotated', previousKeyId: oldKey.keyId, newKeyId: newKey.keyId, previousKeyLastSeq: 1 } : eventAt(seq);
      const a = sealArtifact({ seq, prevHash, at: atSecond(seq), event, key: seq === 3 ? newKey : oldKey });
      chain.push(a);
      prevHash = a.hash;
    }
    const report = await verifyExport(lines(chain, trailerFor(chain, newKey, atSecond(9))), keys);
    expectProblem(report, { line: 3, seq: 3, code: 'bad_rotation' });
    expect(report.problems[0]!.message).toContain('must be seq 2');
  });
});

describe('verify: ranges known from the JWKS cover exports that do not hold the rotation', () => {
  const ring = keyringFromPem(privateKeyPem(newKey) + privateKeyPem(oldKey), 'test');
  ring.retire(oldKey.keyId, { lastSeq: 10, retiredAt: atSecond(11).toISOString(), successorKeyId: newKey.keyId });
  const jwks = JSON.parse(JSON.stringify(ring.jwks())) as unknown;

  it('a forged continuation signed by the old key, without the rotation record, is refused', async () => {
    // The attacker forks the chain at seq 11 and never writes the rotation.
    const fork: SealedArtifact[] = [];
    let prevHash = GENESIS_HASH;
    for (let seq = 1; seq <= 14; seq++) {
      const a = sealArtifact({ seq, prevHash, at: atSecond(seq), event: eventAt(seq), key: oldKey });
      fork.push(a);
      prevHash = a.hash;
    }
    const forged = lines(fork, trailerFor(fork, oldKey, atSecond(5)));
    // Without the range the fork looks fine: exactly what retirement is for.
    expect(await verifyExport(forged, keys)).toMatchObject({ ok: true });
    const report = await verifyExport(forged, publicKeysFromJwks(jwks), { retired: retirementsFromJwks(jwks) });
    expectProblem(report, { line: 11, seq: 11, code: 'retired_key' });
  });

  it('records the old key signed inside its range still verify (old evidence stays valid)', async () => {
    const chain = rotatedChain(20, 10);
    const firstTen = chain.slice(0, 10);
    const report = await verifyExport(lines(firstTen, trailerFor(firstTen, oldKey, atSecond(10))), publicKeysFromJwks(jwks), { retired: retirementsFromJwks(jwks) });
    expect(report).toMatchObject({ ok: true, records: 10 });
  });
});

describe('the keyring: a retired key never signs', () => {
  it('keeps only the active private key, marks retired keys verify-only in the JWKS', () => {
    const ring = keyringFromPem(privateKeyPem(newKey) + privateKeyPem(oldKey), 'test');
    const retirement: KeyRetirement = { lastSeq: 10, retiredAt: '2025-03-01T09:00:11.000Z', successorKeyId: newKey.keyId };
    ring.retire(oldKey.keyId, retirement);
    expect(ring.get(oldKey.keyId)).not.toHaveProperty('privateKey');
    const [active, retired] = ring.jwks().keys;
    expect(active).toMatchObject({ kid: newKey.keyId, use: 'sig' });
    expect(active).not.toHaveProperty('key_ops');
    expect(retired).toEqual({
      kty: 'OKP',
      crv: 'Ed25519',
      x: expect.any(String),
      kid: oldKey.keyId,
      alg: 'EdDSA',
      key_ops: ['verify'],
      countersign_last_seq: 10,
      countersign_retired_at: '2025-03-01T09:00:11.000Z',
      countersign_successor: newKey.keyId,
    });
    expect(retirementsFromJwks(ring.jwks())).toEqual(new Map([[oldKey.keyId, retirement]]));
  });

  it('refuses to retire the active key: a keyring whose active key was retired cannot be used', () => {
    const ring = new Keyring([oldKey, newKey]);
    expect(() => ring.retire(oldKey.keyId, { lastSeq: 3, retiredAt: '2025-03-01T09:00:04.000Z', successorKeyId: newKey.keyId })).toThrow(/retired key never signs again/);
  });

  it('refuses a JWKS whose retirement members are malformed instead of trusting the key', () => {
    const ring = new Keyring([newKey]);
    const jwk = { ...ring.jwks().keys[0]!, countersign_last_seq: 'ten', countersign_retired_at: '2025-03-01T09:00:11.000Z', countersign_successor: 'x' };
    expect(() => retirementsFromJwks({ keys: [jwk] })).toThrow(/malformed retirement/);
  });
});

describe('reconcileSigningKey: what the service does at start', () => {
  const at = new Date('2025-03-02T00:00:00.000Z');

  it('seals a rotation when the chain was last signed by a key the keyring keeps behind a new active key', () => {
    const ring = new Keyring([newKey, oldKey]);
    const event = reconcileSigningKey(ring, { head: { seq: 42, keyId: oldKey.keyId }, rotations: [] }, at);
    expect(event).toEqual({ kind: 'signing-key.rotated', previousKeyId: oldKey.keyId, newKeyId: newKey.keyId, previousKeyLastSeq: 42 });
    expect(ring.retirement(oldKey.keyId)).toEqual({ lastSeq: 42, retiredAt: at.toISOString(), successorKeyId: newKey.keyId });
  });

  it('seals nothing when the active key signed last, or the chain is empty, or the last signer is another process’s key', () => {
    expect(reconcileSigningKey(new Keyring([newKey, oldKey]), { head: { seq: 5, keyId: newKey.keyId }, rotations: [] }, at)).toBeNull();
    expect(reconcileSigningKey(new Keyring([newKey, oldKey]), { head: null, rotations: [] }, at)).toBeNull();
    expect(reconcileSigningKey(new Keyring([newKey]), { head: { seq: 5, keyId: oldKey.keyId }, rotations: [] }, at)).toBeNull();
  });

  it('learns sealed rotations, and refuses to start with a retired key active', () => {
    const chain = rotatedChain(12, 10);
    const rotation = chain[10]!;
    const ring = new Keyring([newKey, oldKey]);
    expect(reconcileSigningKey(ring, { head: { seq: 12, keyId: newKey.keyId }, rotations: [rotation] }, at)).toBeNull();
    expect(ring.retirement(oldKey.keyId)).toEqual({ lastSeq: 10, retiredAt: rotation.at, successorKeyId: newKey.keyId });

    const rolledBack = new Keyring([oldKey, newKey]);
    expect(() => reconcileSigningKey(rolledBack, { head: { seq: 12, keyId: newKey.keyId }, rotations: [rotation] }, at)).toThrow(/retired key never signs again/);
  });
});

describe('release tokens signed by a retired key', () => {
  const hash = intentHash({ action: { type: 'environment.delete', resource: 'env/prod' } });
  const retiredAt = new Date('2025-03-01T12:00:00.000Z');
  const retired = new Map([[oldKey.keyId, { lastSeq: 10, retiredAt: retiredAt.toISOString(), successorKeyId: newKey.keyId }]]);
  const base = { actionId: 'act_1', intentHash: hash, audience: 'deployer', issuer: 'countersign', ttlSeconds: 300 };

  it('are refused when still valid after the retirement, even backdated; the new key’s verify', async () => {
    const later = new Date(retiredAt.getTime() + 60_000);
    const forged = await signReleaseToken({ ...base, key: oldKey, now: later });
    await expect(verifyReleaseToken(forged, { keys, retired, audience: 'deployer', issuer: 'countersign', now: later })).rejects.toMatchObject({ reason: 'retired_key' });
    // iat is the signer's claim: one minute before the retirement, still valid after it.
    const backdated = await signReleaseToken({ ...base, key: oldKey, now: new Date(retiredAt.getTime() - 60_000) });
    await expect(verifyReleaseToken(backdated, { keys, retired, audience: 'deployer', issuer: 'countersign', now: new Date(retiredAt.getTime() - 30_000) })).rejects.toMatchObject({ reason: 'retired_key' });
    // Without the range the same token passes: this is what the check adds.
    await expect(verifyReleaseToken(forged, { keys, audience: 'deployer', issuer: 'countersign', now: later })).resolves.toMatchObject({ sub: 'act_1' });

    const genuine = await signReleaseToken({ ...base, key: newKey, now: later });
    await expect(verifyReleaseToken(genuine, { keys, retired, audience: 'deployer', issuer: 'countersign', now: later })).resolves.toMatchObject({ sub: 'act_1' });
  });

  it('are refused through the JWKS alone, which carries the retirement', async () => {
    const ring = new Keyring([newKey, oldKey]);
    ring.retire(oldKey.keyId, retired.get(oldKey.keyId)!);
    const jwks = JSON.parse(JSON.stringify(ring.jwks()));
    const later = new Date(retiredAt.getTime() + 60_000);
    const forged = await signReleaseToken({ ...base, key: oldKey, now: later });
    await expect(verifyReleaseToken(forged, { keys: jwks, audience: 'deployer', issuer: 'countersign', now: later })).rejects.toMatchObject({ reason: 'retired_key' });
    const genuine = await signReleaseToken({ ...base, key: newKey, now: later });
    await expect(verifyReleaseToken(genuine, { keys: jwks, audience: 'deployer', issuer: 'countersign', now: later })).resolves.toMatchObject({ sub: 'act_1' });
  });
});
