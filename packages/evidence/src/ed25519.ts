import { createRequire } from 'node:module';
import { createPublicKey, sign as opensslSign, verify as opensslVerify, type KeyObject } from 'node:crypto';

/**
 * Ed25519 signing and verifying for artifacts, release tokens and export trailers.
 *
 * Why two implementations: every automatic decision signs twice (its artifact and its release
 * token) and every vote once or twice, and Node's OpenSSL 3.0 spends about half as long again
 * as libsodium on each signature (the provider set-up around a one-shot EVP_DigestSign), and
 * about twice as long on each verification. Ed25519 signatures are deterministic (RFC 8032), so
 * both produce the same bytes for the same key and message: nothing downstream can tell which
 * one signed, and a test compares them.
 *
 * libsodium comes from sodium-native's prebuilt addon (in its npm package: nothing is built or
 * downloaded at install). Where it cannot load (a platform without a prebuild), or where the
 * operator asks for OpenSSL only (`COUNTERSIGN_ED25519=openssl`, e.g. a FIPS-validated OpenSSL
 * policy), OpenSSL does it all. libsodium's verification is the stricter of the two (it also
 * refuses small-order keys and points), so it never accepts what OpenSSL would refuse.
 */
export type Ed25519Backend = 'libsodium' | 'openssl';

interface Sodium {
  crypto_sign_BYTES: number;
  crypto_sign_SECRETKEYBYTES: number;
  crypto_sign_PUBLICKEYBYTES: number;
  crypto_sign_seed_keypair(pk: Buffer, sk: Buffer, seed: Buffer): void;
  crypto_sign_detached(sig: Buffer, message: Buffer, sk: Buffer): void;
  crypto_sign_verify_detached(sig: Buffer, message: Buffer, pk: Buffer): boolean;
  sodium_malloc(size: number): Buffer;
  sodium_memzero(buf: Buffer): void;
}

/** Defined only in a verifying thread's bundle (thread-entry.ts). */
declare const __countersignThreadRequire: NodeJS.Require | undefined;

// Named through a variable so that a bundler (a verifying thread's bundle, thread-entry.ts)
// leaves the addon to be loaded at run time, from node_modules, rather than inline it.
const ADDON = 'sodium-native';

// Loaded at the first use, not at import: the service checks the setting first and says what
// is wrong in one line (settings.ts).
let loaded: Sodium | null | undefined;
const lib = (): Sodium | null => (loaded === undefined ? (loaded = loadSodium(process.env.COUNTERSIGN_ED25519)) : loaded);

function loadSodium(choice: string | undefined): Sodium | null {
  if (choice !== undefined && choice !== '' && choice !== 'libsodium' && choice !== 'openssl') {
    throw new Error('COUNTERSIGN_ED25519 must be libsodium or openssl');
  }
  if (choice === 'openssl') return null;
  try {
    // A thread's bundle runs from a data: URL, which cannot anchor a require: it passes one
    // anchored at the source file (thread-entry.ts). Everywhere else this module has a file URL.
    // (Not `require`: a bundler rewrites that name into a shim that always exists.)
    const load = typeof __countersignThreadRequire === 'function' ? __countersignThreadRequire : createRequire(import.meta.url);
    return load(ADDON) as Sodium;
  } catch (err) {
    // Asked for by name and unavailable: say so rather than quietly run on the other one.
    if (choice === 'libsodium') throw new Error(`COUNTERSIGN_ED25519=libsodium, but sodium-native cannot load: ${(err as Error).message}`);
    return null;
  }
}

/** Which implementation signs and verifies in this process (reported in the bench and at start). */
export function ed25519Backend(): Ed25519Backend {
  return lib() ? 'libsodium' : 'openssl';
}

// libsodium wants the raw keys: derived once per KeyObject. The secret half lives in
// sodium_malloc'd memory (guard pages, kept out of swap), never in a pooled Buffer.
const secretKeys = new WeakMap<KeyObject, Buffer>();
const publicKeys = new WeakMap<KeyObject, Buffer>();

/** The Ed25519 signature of `message` (64 bytes), the same whichever implementation made it. */
export function signEd25519(message: Buffer, privateKey: KeyObject): Buffer {
  const sodium = lib();
  // Anything but an Ed25519 private key goes to OpenSSL, which says what is wrong as before.
  if (!sodium || !isEd25519(privateKey, 'private')) return opensslSign(null, message, privateKey);
  const sk = secretKeys.get(privateKey) ?? sodiumSecretKey(sodium, privateKey);
  const signature = Buffer.allocUnsafe(sodium.crypto_sign_BYTES);
  sodium.crypto_sign_detached(signature, message, sk);
  return signature;
}

/**
 * True when `signature` is `publicKey`'s over `message`. Throws only for a key that is not
 * Ed25519 (OpenSSL's error): callers report that as a failed verification.
 */
export function verifyEd25519(message: Buffer, publicKey: KeyObject, signature: Buffer): boolean {
  const sodium = lib();
  // Anything but an Ed25519 key goes to OpenSSL, so that a report names the same error
  // whichever way a record was checked (the thread pool's checks are OpenSSL's).
  if (!sodium || !isEd25519(publicKey, publicKey.type === 'private' ? 'private' : 'public')) return opensslVerify(null, message, publicKey, signature);
  const pk = publicKeys.get(publicKey) ?? sodiumPublicKey(publicKey);
  // libsodium reads exactly 64 bytes: a longer or shorter signature is simply not this one.
  if (signature.length !== sodium.crypto_sign_BYTES) return false;
  return sodium.crypto_sign_verify_detached(signature, message, pk);
}

/** OpenSSL's signature, whatever this process uses: for tests comparing the two. */
export function signEd25519WithOpenssl(message: Buffer, privateKey: KeyObject): Buffer {
  return opensslSign(null, message, privateKey);
}

function sodiumSecretKey(lib: Sodium, privateKey: KeyObject): Buffer {
  const seed = Buffer.from(privateKey.export({ format: 'jwk' }).d as string, 'base64url');
  const pk = Buffer.alloc(lib.crypto_sign_PUBLICKEYBYTES);
  const sk = lib.sodium_malloc(lib.crypto_sign_SECRETKEYBYTES);
  lib.crypto_sign_seed_keypair(pk, sk, seed);
  lib.sodium_memzero(seed);
  secretKeys.set(privateKey, sk);
  return sk;
}

function sodiumPublicKey(publicKey: KeyObject): Buffer {
  // OpenSSL verifies with a private key's public half too; so does this.
  const key = publicKey.type === 'private' ? createPublicKey(publicKey) : publicKey;
  const pk = Buffer.from(key.export({ format: 'jwk' }).x as string, 'base64url');
  publicKeys.set(publicKey, pk);
  return pk;
}

function isEd25519(key: KeyObject, type: 'private' | 'public'): boolean {
  return key.asymmetricKeyType === 'ed25519' && key.type === type;
}
