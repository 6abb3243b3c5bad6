import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { DomainError } from '@countersign/contracts';
import { sha256Hex } from './canonical.ts';

/** An Ed25519 key pair that seals artifacts and signs release tokens. */
export interface SigningKey {
  keyId: string;
  privateKey: KeyObject;
  publicKey: KeyObject;
}

/** The public half of a signing key: what verifies, never signs. */
export interface VerificationKey {
  keyId: string;
  publicKey: KeyObject;
}

/**
 * A public key as published in the JWKS (RFC 8037 OKP). The active key has `use: "sig"`; a
 * retired key has `key_ops: ["verify"]` and its range instead (RFC 7517 §4.3: not both).
 */
export interface Ed25519Jwk {
  kty: 'OKP';
  crv: 'Ed25519';
  x: string;
  kid: string;
  alg: 'EdDSA';
  use?: 'sig';
  key_ops?: ['verify'];
  /** Retired keys: the last artifact seq this key signed. */
  countersign_last_seq?: number;
  /** Retired keys: when the rotation that retired it was sealed (ISO 8601 UTC). */
  countersign_retired_at?: string;
  /** Retired keys: the key that replaced it. */
  countersign_successor?: string;
}

/**
 * The key id is derived from the public key itself, so anyone holding the public key can
 * recompute it and a key id can never silently point at a different key.
 */
export function keyIdOf(publicKey: KeyObject): string {
  return `ed25519-${sha256Hex(rawPublicKey(publicKey)).slice(0, 16)}`;
}

/** The raw 32-byte Ed25519 public key (RFC 8032 encoding). */
export function rawPublicKey(publicKey: KeyObject): Buffer {
  assertEd25519(publicKey);
  const { x } = publicKey.export({ format: 'jwk' });
  if (typeof x !== 'string') throw new DomainError('internal', 'Ed25519 public key has no x coordinate');
  return Buffer.from(x, 'base64url');
}

export function generateSigningKey(): SigningKey {
  const { privateKey } = generateKeyPairSync('ed25519');
  return signingKeyFromPrivate(privateKey);
}

export function signingKeyFromPrivate(privateKey: KeyObject): SigningKey {
  if (privateKey.type !== 'private') throw new DomainError('internal', 'a signing key needs a private key');
  assertEd25519(privateKey);
  const publicKey = createPublicKey(privateKey);
  return { keyId: keyIdOf(publicKey), privateKey, publicKey };
}

/** Parse one PKCS#8 PEM private key. */
export function signingKeyFromPem(pem: string): SigningKey {
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey({ key: pem, format: 'pem' });
  } catch (err) {
    throw new DomainError('internal', `cannot parse signing key PEM: ${(err as Error).message}`);
  }
  return signingKeyFromPrivate(privateKey);
}

export function privateKeyPem(key: SigningKey): string {
  return key.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
}

/** SPKI PEM of the public half: what `openssl pkeyutl -verify -pubin` takes. */
export function publicKeyPem(key: VerificationKey | KeyObject): string {
  const publicKey = 'keyId' in key ? key.publicKey : key.type === 'private' ? createPublicKey(key) : key;
  return publicKey.export({ format: 'pem', type: 'spki' }).toString();
}

export function publicJwk(publicKey: KeyObject): Ed25519Jwk {
  const x = rawPublicKey(publicKey).toString('base64url');
  return { kty: 'OKP', crv: 'Ed25519', x, kid: keyIdOf(publicKey), alg: 'EdDSA', use: 'sig' };
}

function assertEd25519(key: KeyObject): void {
  if (key.asymmetricKeyType !== 'ed25519') {
    throw new DomainError('internal', `expected an Ed25519 key, got ${key.asymmetricKeyType ?? key.type}`);
  }
}
