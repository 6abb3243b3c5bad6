import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  generateSigningKey,
  keyringFromPem,
  loadKeyring,
  privateKeyPem,
  publicKeyPem,
  publicKeysFromJwks,
  publicKeysFromText,
  rotateKey,
} from '../src/index.ts';

const tmp: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'countersign-keys-'));
  tmp.push(dir);
  return dir;
}
afterEach(() => {
  for (const dir of tmp.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('signing keys', () => {
  it('derives the key id from the raw 32-byte public key', () => {
    const key = generateSigningKey();
    const spki = key.publicKey.export({ format: 'der', type: 'spki' });
    const raw = spki.subarray(spki.length - 32); // Ed25519 SPKI = 12-byte prefix + raw key
    expect(key.keyId).toBe(`ed25519-${createHash('sha256').update(raw).digest('hex').slice(0, 16)}`);
    expect(keyringFromPem(privateKeyPem(key), 'test').active.keyId).toBe(key.keyId);
  });

  it('publishes a JWKS with the active key first', () => {
    const [a, b] = [generateSigningKey(), generateSigningKey()];
    const ring = keyringFromPem(privateKeyPem(b) + privateKeyPem(a), 'test');
    const { keys } = ring.jwks();
    expect(keys.map((k) => k.kid)).toEqual([b.keyId, a.keyId]);
    expect(keys[0]).toEqual({ kty: 'OKP', crv: 'Ed25519', x: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/), kid: b.keyId, alg: 'EdDSA', use: 'sig' });
    expect(publicKeysFromJwks(ring.jwks()).get(a.keyId)?.equals(a.publicKey)).toBe(true);
  });
});

describe('loadKeyring from PEM', () => {
  it('takes the first of several concatenated keys as active and keeps the rest (env var form)', () => {
    const [newer, older] = [generateSigningKey(), generateSigningKey()];
    const pem = privateKeyPem(newer) + privateKeyPem(older);
    const ring = loadKeyring({ pem });
    expect(ring.active.keyId).toBe(newer.keyId);
    expect([...ring.publicKeys().keys()]).toEqual([newer.keyId, older.keyId]);
    // The others only verify: their private halves are not kept.
    expect(ring.get(older.keyId)?.publicKey.equals(older.publicKey)).toBe(true);
    expect(ring.get(older.keyId)).not.toHaveProperty('privateKey');
    // One-line secrets carry literal "\n" escapes.
    expect(loadKeyring({ pem: pem.replaceAll('\n', '\\n') }).active.keyId).toBe(newer.keyId);
  });

  it('reads a PEM file', () => {
    const key = generateSigningKey();
    const dir = tempDir();
    writeFileSync(join(dir, 'signing.pem'), privateKeyPem(key));
    expect(loadKeyring({ pemFile: 'signing.pem', cwd: dir }).active.keyId).toBe(key.keyId);
  });

  it('refuses an empty, public-only or missing source instead of generating a key', () => {
    expect(() => loadKeyring({ pem: '' })).toThrow(/no PEM private key/);
    expect(() => loadKeyring({ pem: publicKeyPem(generateSigningKey()) })).toThrow(/PUBLIC KEY/);
    expect(() => loadKeyring({ pemFile: '/nonexistent/key.pem' })).toThrow(/ENOENT/);
  });
});

describe('loadKeyring from a directory', () => {
  it('generates a key on first use with private permissions, then reuses it', () => {
    const cwd = tempDir();
    const first = loadKeyring({ cwd });
    const dir = join(cwd, '.countersign/keys');
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    expect(statSync(join(dir, `${first.active.keyId}.pem`)).mode & 0o777).toBe(0o600);
    expect(readFileSync(join(dir, 'active'), 'utf8').trim()).toBe(first.active.keyId);
    expect(loadKeyring({ cwd }).active.keyId).toBe(first.active.keyId);
    expect(readdirSync(dir).sort()).toEqual(['active', `${first.active.keyId}.pem`]);
  });

  it('does not create keys when asked not to', () => {
    expect(() => loadKeyring({ dir: join(tempDir(), 'none'), create: false })).toThrow(/no signing key/);
  });

  it('rotates: the new key signs, the old one stays for verification', () => {
    const dir = join(tempDir(), 'keys');
    const before = loadKeyring({ dir }).active;
    const rotated = rotateKey(dir);
    const ring = loadKeyring({ dir });
    expect(ring.active.keyId).toBe(rotated.keyId);
    expect(ring.active.keyId).not.toBe(before.keyId);
    expect(ring.get(before.keyId)).toBeDefined();
    expect(ring.jwks().keys.map((k) => k.kid)).toEqual([rotated.keyId, before.keyId]);
  });

  it('refuses a key file whose name is not its key id, or an active file naming no key', () => {
    const dir = join(tempDir(), 'keys');
    const { active } = loadKeyring({ dir });
    renameSync(join(dir, `${active.keyId}.pem`), join(dir, 'renamed.pem'));
    expect(() => loadKeyring({ dir })).toThrow(/rename it/);
    renameSync(join(dir, 'renamed.pem'), join(dir, `${active.keyId}.pem`));
    writeFileSync(join(dir, 'active'), 'ed25519-0000000000000000\n');
    expect(() => loadKeyring({ dir })).toThrow(/not a key/);
  });
});

describe('public keys for verification', () => {
  it('reads PEM public keys and JWKS, refusing a kid that does not match its key', () => {
    const [a, b] = [generateSigningKey(), generateSigningKey()];
    expect([...publicKeysFromText(publicKeyPem(a) + publicKeyPem(b)).keys()]).toEqual([a.keyId, b.keyId]);
    const jwks = keyringFromPem(privateKeyPem(a), 't').jwks();
    expect([...publicKeysFromText(JSON.stringify(jwks)).keys()]).toEqual([a.keyId]);
    const lying = { keys: [{ ...jwks.keys[0], kid: b.keyId }] };
    expect(() => publicKeysFromJwks(lying)).toThrow(/does not match/);
    expect(() => publicKeysFromText(privateKeyPem(a))).toThrow(/PUBLIC KEY/);
  });
});
