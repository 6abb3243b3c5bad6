import { createRequire } from 'node:module';
import { getFips, sign as opensslSign, type KeyObject } from 'node:crypto';

/**
 * Ed25519 signing for artifacts, release tokens and export trailers.
 *
 * Why two implementations: every automatic decision signs twice (its artifact and its release
 * token) and every vote once or twice, and Node's OpenSSL 3.0 spends about half as long again
 * as libsodium on each signature (the provider set-up around a one-shot EVP_DigestSign). Ed25519
 * signatures are deterministic (RFC 8032): both produce the same bytes for the same key and
 * message, so nothing downstream can tell which one signed, and a test compares them.
 *
 * Only signing: verifying stays OpenSSL's everywhere (verify-signatures.ts, trailer-check.ts).
 * libsodium's verification also refuses small-order points that RFC 8032 and `openssl pkeyutl`
 * accept (a key holder can make such a signature), so a verdict would depend on which library
 * checked which line: the threads, one thread, another auditor's machine (review s17 a, F1).
 *
 * libsodium comes from sodium-native's prebuilt addon (in its npm package: nothing is built or
 * downloaded at install). OpenSSL signs where the addon cannot load (a platform without a
 * prebuild), where Node runs in FIPS mode, or where the operator says so
 * (`COUNTERSIGN_ED25519=openssl`); `=libsodium` insists on it.
 */
export type Ed25519Backend = 'libsodium' | 'openssl';

interface Sodium {
  crypto_sign_BYTES: number;
  crypto_sign_SECRETKEYBYTES: number;
  crypto_sign_PUBLICKEYBYTES: number;
  crypto_sign_seed_keypair(pk: Buffer, sk: Buffer, seed: Buffer): void;
  crypto_sign_detached(sig: Buffer, message: Buffer, sk: Buffer): void;
  sodium_malloc(size: number): Buffer;
  sodium_memzero(buf: Buffer): void;
}

// Loaded at the first use, not at import: the service checks the setting first and says what
// is wrong in one line (settings.ts), then asks before it listens (service.ts).
let loaded: Sodium | null | undefined;
const lib = (): Sodium | null => (loaded === undefined ? (loaded = loadSodium(process.env.COUNTERSIGN_ED25519)) : loaded);

function loadSodium(choice: string | undefined): Sodium | null {
  if (choice !== undefined && choice !== '' && choice !== 'libsodium' && choice !== 'openssl') {
    throw new Error('COUNTERSIGN_ED25519 must be libsodium or openssl');
  }
  if (choice === 'openssl') return null;
  // A FIPS-mode Node signs only with its validated provider unless told otherwise by name.
  if (choice !== 'libsodium' && getFips() === 1) return null;
  try {
    return createRequire(import.meta.url)('sodium-native') as Sodium;
  } catch (err) {
    // Asked for by name and unavailable: say so rather than quietly run on the other one.
    if (choice === 'libsodium') throw new Error(`COUNTERSIGN_ED25519=libsodium, but sodium-native cannot load: ${(err as Error).message}`);
    return null;
  }
}

/**
 * Which implementation signs in this process. Throws when COUNTERSIGN_ED25519 is not a value it
 * takes, or names libsodium and its addon cannot load: a service asks before it listens.
 */
export function ed25519Backend(): Ed25519Backend {
  return lib() ? 'libsodium' : 'openssl';
}

// libsodium wants the raw secret key: derived once per KeyObject, and kept in sodium_malloc'd
// memory (guard pages, kept out of swap), never in a pooled Buffer.
const secretKeys = new WeakMap<KeyObject, Buffer | null>();

/** The Ed25519 signature of `message` (64 bytes), the same whichever implementation made it. */
export function signEd25519(message: Buffer, privateKey: KeyObject): Buffer {
  const sodium = lib();
  // Anything but an Ed25519 private key goes to OpenSSL, which says what is wrong as before.
  if (!sodium || privateKey.asymmetricKeyType !== 'ed25519' || privateKey.type !== 'private') return opensslSign(null, message, privateKey);
  const known = secretKeys.get(privateKey);
  const sk = known === undefined ? sodiumSecretKey(sodium, privateKey) : known;
  // A key whose encoding is not the one expected: OpenSSL signs with it (the same bytes).
  if (sk === null) return opensslSign(null, message, privateKey);
  const signature = Buffer.allocUnsafe(sodium.crypto_sign_BYTES);
  sodium.crypto_sign_detached(signature, message, sk);
  return signature;
}

/** OpenSSL's signature, whatever this process uses: for tests comparing the two. */
export function signEd25519WithOpenssl(message: Buffer, privateKey: KeyObject): Buffer {
  return opensslSign(null, message, privateKey);
}

// An Ed25519 PKCS#8 key (RFC 8410) is this fixed prefix and the 32-byte seed.
const PKCS8_ED25519_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

function sodiumSecretKey(lib: Sodium, privateKey: KeyObject): Buffer | null {
  // DER into a Buffer (zeroed below), not JWK: a JWK would leave the seed in the JS heap as an
  // immutable string until it is collected.
  const der = privateKey.export({ format: 'der', type: 'pkcs8' });
  try {
    if (der.length !== PKCS8_ED25519_PREFIX.length + 32 || !der.subarray(0, PKCS8_ED25519_PREFIX.length).equals(PKCS8_ED25519_PREFIX)) {
      secretKeys.set(privateKey, null);
      return null;
    }
    const pk = Buffer.alloc(lib.crypto_sign_PUBLICKEYBYTES);
    const sk = lib.sodium_malloc(lib.crypto_sign_SECRETKEYBYTES);
    lib.crypto_sign_seed_keypair(pk, sk, der.subarray(PKCS8_ED25519_PREFIX.length));
    secretKeys.set(privateKey, sk);
    return sk;
  } finally {
    lib.sodium_memzero(der);
  }
}
