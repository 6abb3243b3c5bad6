import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GENESIS_HASH, type SealedArtifact } from '@countersign/contracts';
import { intentHash, sealArtifact, sealTrailer, signingKeyFromPem, signReleaseToken, type SigningKey } from '@countersign/evidence';
import { run as signingKey } from '../apps/cli/src/commands/signing-key.ts';
import { run as runVerify } from '../apps/cli/src/commands/verify.ts';
import { cliFor } from './support/cli.ts';
import { freshDatabase, type TestDatabase } from './support/database.ts';
import { intents, startTestService, type TestService } from './support/service.ts';

// A rotated key is retired. `countersign signing-key rotate` makes a new key active; the
// restarted service seals `signing-key.rotated` (signed by the new key) before signing anything
// else; from then on the old key verifies only what it signed before: a process still running
// it stops signing, the JWKS publishes it as verify-only with its last seq, and `verify` and
// redemption refuse anything it signs later — which is what a leaked key would be used for.

const keysDir = fs.mkdtempSync(path.join(os.tmpdir(), 'countersign-rotation-keys-'));
let db: TestDatabase;
let before: TestService; // started with the first key, still running after the rotation
let after: TestService; // the restarted service
let oldKey: SigningKey;
let newKeyId: string;
let rotation: SealedArtifact;
let tokenBefore: string;
let approvedId: string;
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'countersign-rotation-'));

beforeAll(async () => {
  db = await freshDatabase();
  before = await startTestService({ databaseUrl: db.url, keysDir });
  oldKey = signingKeyFromPem(fs.readFileSync(path.join(keysDir, `${before.service.keyring.active.keyId}.pem`), 'utf8'));
  const approved = await before.api('POST', '/v1/actions', { token: before.tokens['deploy-bot'], body: intents.read });
  expect(approved.status).toBe(201);
  approvedId = approved.body.id;
  tokenBefore = approved.body.releaseToken;

  const cli = cliFor(before);
  expect(await signingKey(['rotate', '--dir', keysDir], cli.ctx)).toBe(0);
  expect(cli.out()).toMatch(/rotated: active signing key is now ed25519-[0-9a-f]{16}/);
  after = await startTestService({ databaseUrl: db.url, keysDir });
  newKeyId = after.service.keyring.active.keyId;
  const row = await after.prisma.artifact.findFirst({ where: { kind: 'signing-key.rotated' } });
  rotation = { ...row!, seq: Number(row!.seq), at: row!.at.toISOString() } as unknown as SealedArtifact;
}, 120_000);

afterAll(async () => {
  await after?.stop();
  await before?.stop();
  await db?.drop();
  fs.rmSync(keysDir, { recursive: true, force: true });
  fs.rmSync(work, { recursive: true, force: true });
});

describe('signing key rotation', () => {
  it('the restarted service sealed the rotation, signed by the new key, before anything else it signed', async () => {
    expect(newKeyId).not.toBe(oldKey.keyId);
    const body = JSON.parse(rotation.canonical);
    expect(body.event).toEqual({ kind: 'signing-key.rotated', previousKeyId: oldKey.keyId, newKeyId, previousKeyLastSeq: rotation.seq - 1 });
    expect(rotation.keyId).toBe(newKeyId);
    const signers = await after.prisma.artifact.findMany({ orderBy: { seq: 'asc' }, select: { seq: true, keyId: true } });
    // Old key up to the rotation, the new key from the rotation on: never interleaved.
    for (const s of signers) expect(s.keyId).toBe(Number(s.seq) < rotation.seq ? oldKey.keyId : newKeyId);
    expect(Number(signers.at(-1)!.seq)).toBeGreaterThan(rotation.seq); // the restarted service went on signing
    expect(after.service.keyring.retirement(oldKey.keyId)).toEqual({ lastSeq: rotation.seq - 1, retiredAt: rotation.at, successorKeyId: newKeyId });
  });

  it('a process still running the retired key stops signing (503), and nothing is stored', async () => {
    const count = await after.prisma.artifact.count();
    const res = await before.api('POST', '/v1/actions', { token: before.tokens['deploy-bot'], body: intents.read });
    expect(res.status, res.text).toBe(503);
    expect(res.body).toMatchObject({ code: 'unavailable' });
    expect(await after.prisma.artifact.count()).toBe(count);
  });

  it('the JWKS marks the retired key verification-only, with its last seq and retirement time', async () => {
    const { body } = await after.api('GET', '/.well-known/jwks.json');
    expect(body.keys.map((k: { kid: string }) => k.kid)).toEqual([newKeyId, oldKey.keyId]);
    expect(body.keys[0]).toMatchObject({ kid: newKeyId, use: 'sig' });
    expect(body.keys[1]).toMatchObject({
      kid: oldKey.keyId,
      key_ops: ['verify'],
      countersign_last_seq: rotation.seq - 1,
      countersign_retired_at: rotation.at,
      countersign_successor: newKeyId,
    });
    expect(body.keys[1]).not.toHaveProperty('use');
  });

  it('verify accepts the real history and refuses a record the old key signs after its rotation', async () => {
    const exported = await after.api('GET', '/v1/audit/export', { token: after.tokens.grace });
    expect(exported.status).toBe(200);
    const lines = exported.text.trim().split('\n');
    const jwksFile = path.join(work, 'jwks.json');
    fs.writeFileSync(jwksFile, JSON.stringify((await after.api('GET', '/.well-known/jwks.json')).body));
    const good = path.join(work, 'good.jsonl');
    fs.writeFileSync(good, `${lines.join('\n')}\n`);
    const ok = cliFor(after);
    expect(await runVerify([good, '--key', jwksFile], ok.ctx), ok.out()).toBe(0);

    // The leaked-key forgery: a valid, linked record signed by the old key, and a trailer to match.
    const records = lines.slice(0, -1).map((l) => JSON.parse(l) as SealedArtifact);
    const last = records.at(-1)!;
    const forged = sealArtifact({
      seq: last.seq + 1,
      prevHash: last.hash,
      at: new Date(Date.parse(last.at) + 1000),
      event: { kind: 'config.changed', file: 'policy', digest: intentHash('anything goes'), previousDigest: null },
      key: oldKey,
    });
    const trailer = sealTrailer({ records: records.length + 1, firstSeq: 1, lastSeq: forged.seq, lastHash: forged.hash, from: null, to: null, exportedAt: new Date(rotation.at), key: oldKey });
    const bad = path.join(work, 'forged.jsonl');
    fs.writeFileSync(bad, [...records.map((r) => JSON.stringify(r)), JSON.stringify(forged), JSON.stringify(trailer)].join('\n') + '\n');
    expect(records[0]!.prevHash).toBe(GENESIS_HASH);

    const withJwks = cliFor(after);
    expect(await runVerify([bad, '--key', jwksFile], withJwks.ctx)).toBe(1);
    expect(withJwks.out()).toMatch(new RegExp(`^FAILED: line ${records.length + 1}, seq ${forged.seq}: retired_key: signed by key ${oldKey.keyId}, retired after seq ${rotation.seq - 1}`));
    // The range also lives in the chain itself: plain public keys (no JWKS ranges) refuse it too.
    const pems = path.join(work, 'keys.pem');
    const pub = cliFor(after);
    expect(await signingKey(['public', '--dir', keysDir, '--all'], pub.ctx)).toBe(0);
    fs.writeFileSync(pems, pub.out());
    const withPems = cliFor(after);
    expect(await runVerify([bad, '--key', pems], withPems.ctx)).toBe(1);
    expect(withPems.out()).toContain(`retired_key: signed by key ${oldKey.keyId}`);
  });

  it('redemption refuses release tokens of the retired key: outstanding ones and forged ones', async () => {
    const outstanding = await after.api('POST', '/v1/releases/redeem', { token: after.tokens.grace, body: { token: tokenBefore } });
    expect(outstanding.status, outstanding.text).toBe(403);
    expect(outstanding.body).toMatchObject({ code: 'invalid_release_token', reason: 'retired_key' });

    const action = await after.api('GET', `/v1/actions/${approvedId}`, { token: after.tokens['deploy-bot'] });
    const forged = await signReleaseToken({
      key: oldKey,
      actionId: approvedId,
      intentHash: action.body.intentHash,
      audience: 'countersign-release',
      issuer: 'countersign',
      ttlSeconds: 300,
      now: after.clock.now(),
    });
    const res = await after.api('POST', '/v1/releases/redeem', { token: after.tokens.grace, body: { token: forged } });
    expect(res.status).toBe(403);
    expect(res.body).toMatchObject({ code: 'invalid_release_token', reason: 'retired_key' });

    // Reading the approved action mints a token with the current key, which redeems.
    expect(action.body.releaseToken).toBeDefined();
    const fresh = await after.api('POST', '/v1/releases/redeem', { token: after.tokens.grace, body: { token: action.body.releaseToken } });
    expect(fresh.status, fresh.text).toBe(201);
    expect(await after.prisma.releaseRedemption.count({ where: { actionId: approvedId } })).toBe(1);
  });

  it("redemption checks the token's intent_sha256 against the action's stored intent hash", async () => {
    const approved = await after.api('POST', '/v1/actions', { token: after.tokens['deploy-bot'], body: { ...intents.read, action: { type: 'db.query', resource: 'other-replica' } } });
    expect(approved.body.status).toBe('approved');
    // Signed with the current key for the right action id, but bound to another intent.
    const token = await signReleaseToken({
      key: after.service.keyring.active,
      actionId: approved.body.id,
      intentHash: intentHash({ action: { type: 'database.drop', resource: 'orders' } }),
      audience: 'countersign-release',
      issuer: 'countersign',
      ttlSeconds: 300,
      now: after.clock.now(),
    });
    const res = await after.api('POST', '/v1/releases/redeem', { token: after.tokens.grace, body: { token } });
    expect(res.status).toBe(403);
    expect(res.body).toMatchObject({ code: 'invalid_release_token', reason: 'intent_mismatch' });
    expect(await after.prisma.releaseRedemption.count({ where: { actionId: approved.body.id } })).toBe(0);
  });

  it('a service configured with the retired key as active refuses to start', async () => {
    const activeFile = path.join(keysDir, 'active');
    const current = fs.readFileSync(activeFile, 'utf8');
    fs.writeFileSync(activeFile, `${oldKey.keyId}\n`);
    try {
      await expect(startTestService({ databaseUrl: db.url, keysDir })).rejects.toThrow(/retired key never signs again/);
    } finally {
      fs.writeFileSync(activeFile, current);
    }
  });
});
