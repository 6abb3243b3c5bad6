import { spawnSync } from 'node:child_process';
import { generateKeyPairSync, randomBytes, sign, verify } from 'node:crypto';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ed25519Backend, signEd25519, signEd25519WithOpenssl, verifyEd25519 } from '../src/ed25519.ts';
import { verifySignatureNow } from '../src/verify-signatures.ts';
import { VerifyThreads } from '../src/verify-threads.ts';

const REPO = path.resolve(import.meta.dirname, '..', '..', '..');

// Signing goes through libsodium where it loads (ed25519.ts): these pin that it does here, and
// that nothing it signs or verifies differs from what OpenSSL would.
describe('Ed25519 through libsodium', () => {
  it('is what this process signs with (a silent fallback would lose the speed unnoticed)', () => {
    expect(ed25519Backend()).toBe('libsodium');
  });

  it('signs exactly the bytes OpenSSL signs, for many keys and messages of every length', () => {
    for (let i = 0; i < 200; i++) {
      const { privateKey, publicKey } = generateKeyPairSync('ed25519');
      const message = randomBytes(i === 0 ? 0 : (i * 37) % 5000);
      const ours = signEd25519(message, privateKey);
      expect(ours.equals(sign(null, message, privateKey))).toBe(true);
      expect(ours.equals(signEd25519WithOpenssl(message, privateKey))).toBe(true);
      expect(verify(null, message, publicKey, ours)).toBe(true);
    }
  });

  it('verifies as OpenSSL does: good, tampered, truncated, extended, another key', () => {
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    const other = generateKeyPairSync('ed25519').publicKey;
    const message = Buffer.from('{"v":1,"seq":1}');
    const good = sign(null, message, privateKey);
    const flipped = Buffer.from(good);
    flipped[10]! ^= 1;
    const cases: Array<[Buffer, Buffer, typeof publicKey]> = [
      [message, good, publicKey],
      [message, flipped, publicKey],
      [message, good.subarray(0, 63), publicKey],
      [message, Buffer.concat([good, Buffer.alloc(1)]), publicKey],
      [message, Buffer.alloc(0), publicKey],
      [Buffer.from('{"v":1,"seq":2}'), good, publicKey],
      [message, good, other],
    ];
    expect(cases.map(([m, s, k]) => verifyEd25519(m, k, s))).toEqual(cases.map(([m, s, k]) => verify(null, m, k, s)));
    expect(cases.map(([m, s, k]) => verifyEd25519(m, k, s))).toEqual([true, false, false, false, false, false, false]);
  });

  it('verifies with a private key as OpenSSL does, and refuses a key that is not Ed25519', () => {
    const { privateKey } = generateKeyPairSync('ed25519');
    const message = Buffer.from('m');
    expect(verifyEd25519(message, privateKey, sign(null, message, privateKey))).toBe(true);
    const x25519 = generateKeyPairSync('x25519').publicKey;
    expect(() => verifyEd25519(message, x25519, Buffer.alloc(64))).toThrow(/operation not supported for this keytype/);
    // A record checked against such a key fails; it is never accepted.
    const outcome = verifySignatureNow({ bytes: message, publicKey: x25519, signature: Buffer.alloc(64), keyId: 'k1' } as never);
    expect(outcome).toEqual({ ok: false, message: expect.stringContaining('signature check failed with key k1') });
  });

  it('is what verifying threads verify with too (their bundle loads the addon from a data: URL)', async () => {
    const threads = new VerifyThreads(2);
    try {
      await threads.ready;
      expect(threads.ed25519Backends).toEqual(['libsodium', 'libsodium']);
    } finally {
      await threads.close();
    }
  });

  it('COUNTERSIGN_ED25519=openssl signs with OpenSSL only, the same bytes', () => {
    const { privateKey } = generateKeyPairSync('ed25519');
    const pem = privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
    const code = `
      import { createPrivateKey } from 'node:crypto';
      import { ed25519Backend, signEd25519 } from './packages/evidence/src/ed25519.ts';
      const key = createPrivateKey(${JSON.stringify(pem)});
      console.log(JSON.stringify([ed25519Backend(), signEd25519(Buffer.from('same'), key).toString('base64')]));
    `;
    const run = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], {
      cwd: REPO,
      encoding: 'utf8',
      timeout: 30_000,
      env: { ...process.env, COUNTERSIGN_ED25519: 'openssl' },
    });
    expect({ status: run.status, stderr: run.stderr }).toEqual({ status: 0, stderr: '' });
    expect(JSON.parse(run.stdout)).toEqual(['openssl', signEd25519(Buffer.from('same'), privateKey).toString('base64')]);
  });
});
