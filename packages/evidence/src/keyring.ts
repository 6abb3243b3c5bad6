import type { KeyObject } from 'node:crypto';
import { DomainError } from '@countersign/contracts';
import { publicJwk, type Ed25519Jwk, type SigningKey } from './keys.ts';

/**
 * The organisation's signing keys: one active key seals new artifacts and signs release
 * tokens; retired keys stay so that older artifacts and the JWKS keep verifying (rotation).
 */
export class Keyring {
  readonly active: SigningKey;
  private readonly byId: Map<string, SigningKey>;

  /** The first key is the active one. Duplicates (same key id) are kept once. */
  constructor(keys: readonly SigningKey[]) {
    const [active] = keys;
    if (!active) throw new DomainError('internal', 'a keyring needs at least one signing key');
    this.active = active;
    this.byId = new Map();
    for (const key of keys) if (!this.byId.has(key.keyId)) this.byId.set(key.keyId, key);
  }

  all(): SigningKey[] {
    return [...this.byId.values()];
  }

  get(keyId: string): SigningKey | undefined {
    return this.byId.get(keyId);
  }

  publicKeys(): Map<string, KeyObject> {
    return new Map([...this.byId].map(([keyId, key]) => [keyId, key.publicKey]));
  }

  /** Active key first, so naive consumers that take keys[0] pick the current one. */
  jwks(): { keys: Ed25519Jwk[] } {
    return { keys: this.all().map((key) => publicJwk(key.publicKey)) };
  }
}
