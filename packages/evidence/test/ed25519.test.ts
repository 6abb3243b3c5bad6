import { spawnSync } from 'node:child_process';
import { generateKeyPairSync, randomBytes, sign, verify } from 'node:crypto';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ed25519Backend, signEd25519, signEd25519WithOpenssl } from '../src/ed25519.ts';
import { generateSigningKey, verifyExport, verifyExportOnOneThread, verifyExportParallel, VerifyThreads } from '../src/index.ts';
import { jsonlLines, sealChain } from './factories.ts';
import { identityRSignature } from './fixtures/identity-r-signature.ts';

const REPO = path.resolve(import.meta.dirname, '..', '..', '..');

function runWith(env: Record<string, string>, code: string) {
  return spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], {
    cwd: REPO,
    encoding: 'utf8',
    timeout: 30_000,
    env: { ...process.env, ...env },
  });
}

// Signing goes through libsodium where it loads (ed25519.ts): these pin that it does here, and
// that nothing it signs differs from what OpenSSL would.
describe('Ed25519 signatures through libsodium', () => {
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

  it('a key that is not an Ed25519 private key gets OpenSSL’s answer, as before', () => {
    const { publicKey } = generateKeyPairSync('ed25519');
    const x25519 = generateKeyPairSync('x25519').privateKey;
    expect(() => signEd25519(Buffer.from('m'), publicKey)).toThrow();
    expect(() => signEd25519(Buffer.from('m'), x25519)).toThrow(/operation not supported for this keytype/);
  });

  it('COUNTERSIGN_ED25519=openssl signs with OpenSSL only, the same bytes', () => {
    const { privateKey } = generateKeyPairSync('ed25519');
    const pem = privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
    const run = runWith(
      { COUNTERSIGN_ED25519: 'openssl' },
      `import { createPrivateKey } from 'node:crypto';
       import { ed25519Backend, signEd25519 } from './packages/evidence/src/ed25519.ts';
       const key = createPrivateKey(${JSON.stringify(pem)});
       console.log(JSON.stringify([ed25519Backend(), signEd25519(Buffer.from('same'), key).toString('base64')]));`,
    );
    expect({ status: run.status, stderr: run.stderr }).toEqual({ status: 0, stderr: '' });
    expect(JSON.parse(run.stdout)).toEqual(['openssl', signEd25519(Buffer.from('same'), privateKey).toString('base64')]);
  });

  it('=libsodium where the addon cannot load, or a value it does not take, throws when asked (a service asks before it listens)', () => {
    const blocked = path.join(REPO, 'packages/evidence/test/fixtures/no-sodium.cjs');
    const ask = `import { ed25519Backend } from './packages/evidence/src/ed25519.ts';
       try { console.log(ed25519Backend()); } catch (err) { console.log('refused: ' + err.message); }`;
    const forced = runWith({ COUNTERSIGN_ED25519: 'libsodium', NODE_OPTIONS: `--require ${blocked}` }, ask);
    expect(forced.stdout).toMatch(/^refused: COUNTERSIGN_ED25519=libsodium, but sodium-native cannot load/);
    // Unset, the same machine signs with OpenSSL.
    const unset = runWith({ COUNTERSIGN_ED25519: '', NODE_OPTIONS: `--require ${blocked}` }, ask);
    expect(unset.stdout.trim()).toBe('openssl');
    const bad = runWith({ COUNTERSIGN_ED25519: 'fips' }, ask);
    expect(bad.stdout.trim()).toBe('refused: COUNTERSIGN_ED25519 must be libsodium or openssl');
  });
});

describe('verifying stays OpenSSL’s on every path', () => {
  let threads: VerifyThreads;
  beforeAll(async () => {
    threads = new VerifyThreads(2);
    await threads.ready;
  });
  afterAll(() => threads.close());

  // libsodium refuses a signature whose R is the identity; RFC 8032 and OpenSSL accept it. The
  // verdict must not depend on whether a line was checked on a thread or not.
  it('a key holder’s identity-R signature gets one verdict, on threads, on one thread, and through the pool', async () => {
    const key = generateSigningKey();
    const chain = sealChain(40, key);
    const record = chain.artifacts[19]! as { canonical: string; signature: string };
    record.signature = identityRSignature(Buffer.from(record.canonical, 'utf8'), key.privateKey).toString('base64');
    const trailer = chain.trailer as unknown as { canonical: string; signature: string };
    trailer.signature = identityRSignature(Buffer.from(trailer.canonical, 'utf8'), key.privateKey).toString('base64');
    const lines = jsonlLines(chain);
    const keys = new Map([[key.keyId, key.publicKey]]);
    const reports = [
      await verifyExport(lines, keys),
      await verifyExportOnOneThread(lines, keys),
      await verifyExportParallel(lines, keys, { threads, minLinesForThreads: 0, batchLines: 8 }),
    ];
    expect(reports[0]).toMatchObject({ ok: true, records: 40 });
    expect(reports[1]).toEqual(reports[0]);
    expect(reports[2]).toEqual(reports[0]);
  });
});
