import { createPublicKey, type KeyObject } from 'node:crypto';
import { DomainError } from '@countersign/contracts';
import { keyIdOf } from './keys.ts';
import { pemBlocks } from './pem.ts';

/**
 * Public keys for verification, keyed by key id. The id is always recomputed from the key:
 * a JWKS whose `kid` disagrees with its key is refused rather than trusted.
 */
export function publicKeysFromText(text: string): Map<string, KeyObject> {
  return text.trimStart().startsWith('{') ? publicKeysFromJwks(parseJson(text)) : publicKeysFromPem(text);
}

/** One or more concatenated SPKI "PUBLIC KEY" PEM blocks. */
export function publicKeysFromPem(text: string): Map<string, KeyObject> {
  const keys = new Map<string, KeyObject>();
  for (const block of pemBlocks(text)) {
    if (block.label !== 'PUBLIC KEY') throw new DomainError('invalid_request', `expected a "PUBLIC KEY" PEM block, got "${block.label}"`);
    add(keys, toKey(() => createPublicKey({ key: block.pem, format: 'pem' })));
  }
  return keys;
}

/** A JWKS (`{ keys: [...] }`) or a single JWK; only Ed25519 (OKP) keys are taken. */
export function publicKeysFromJwks(jwks: unknown): Map<string, KeyObject> {
  const list = isRecord(jwks) && Array.isArray(jwks.keys) ? (jwks.keys as unknown[]) : [jwks];
  const keys = new Map<string, KeyObject>();
  for (const jwk of list) {
    if (!isRecord(jwk) || jwk.kty !== 'OKP' || jwk.crv !== 'Ed25519') continue;
    const key = toKey(() => createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: String(jwk.x) }, format: 'jwk' }));
    if (jwk.kid !== undefined && jwk.kid !== keyIdOf(key)) {
      throw new DomainError('invalid_request', `JWK kid ${String(jwk.kid)} does not match its key (expected ${keyIdOf(key)})`);
    }
    add(keys, key);
  }
  if (keys.size === 0) throw new DomainError('invalid_request', 'no Ed25519 key in the JWKS');
  return keys;
}

function add(keys: Map<string, KeyObject>, key: KeyObject): void {
  keys.set(keyIdOf(key), key);
}

function toKey(make: () => KeyObject): KeyObject {
  let key: KeyObject;
  try {
    key = make();
  } catch (err) {
    throw new DomainError('invalid_request', `cannot parse public key: ${(err as Error).message}`);
  }
  if (key.asymmetricKeyType !== 'ed25519') throw new DomainError('invalid_request', `expected an Ed25519 public key, got ${key.asymmetricKeyType}`);
  return key;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new DomainError('invalid_request', 'key file looks like JSON but does not parse');
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
