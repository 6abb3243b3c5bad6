import type { KeyObject } from 'node:crypto';
import { DomainError } from '@countersign/contracts';
import { publicJwk, type Ed25519Jwk, type SigningKey, type VerificationKey } from './keys.ts';
import { retiredJwkMembers, type KeyRetirement } from './key-retirement.ts';

/**
 * The organisation's signing keys: one active key seals new artifacts and signs release
 * tokens; the others only verify. Only the active key's private half is kept: a key that is
 * not active signs nothing, and once a rotation is sealed (`signing-key.rotated`) the previous
 * key is retired for good — it verifies records up to its last seq and nothing after.
 */
export class Keyring {
  readonly active: SigningKey;
  private readonly byId: Map<string, VerificationKey>;
  private readonly retired = new Map<string, KeyRetirement>();

  /** The first key is the active one. Duplicates (same key id) are kept once. */
  constructor(keys: readonly SigningKey[]) {
    const [active] = keys;
    if (!active) throw new DomainError('internal', 'a keyring needs at least one signing key');
    this.active = active;
    this.byId = new Map([[active.keyId, active]]);
    for (const key of keys) if (!this.byId.has(key.keyId)) this.byId.set(key.keyId, { keyId: key.keyId, publicKey: key.publicKey });
  }

  /** Every key's public half, active first. */
  all(): VerificationKey[] {
    return [...this.byId.values()].map(({ keyId, publicKey }) => ({ keyId, publicKey }));
  }

  get(keyId: string): VerificationKey | undefined {
    const key = this.byId.get(keyId);
    return key && { keyId: key.keyId, publicKey: key.publicKey };
  }

  publicKeys(): Map<string, KeyObject> {
    return new Map([...this.byId].map(([keyId, key]) => [keyId, key.publicKey]));
  }

  /**
   * Record that `keyId` signed nothing after `lastSeq` (from a sealed rotation). The key may
   * be one this keyring does not hold (keys replaced wholesale); its range still counts.
   * Retiring the active key is refused: a retired key never signs again.
   */
  retire(keyId: string, retirement: KeyRetirement): void {
    if (keyId === this.active.keyId) {
      throw new DomainError(
        'internal',
        `signing key ${keyId} was retired after seq ${retirement.lastSeq} (${retirement.retiredAt}); a retired key never signs again: make a new key active`,
      );
    }
    const known = this.retired.get(keyId);
    // Two records of one retirement can only differ if the chain is inconsistent: keep the stricter.
    if (!known || retirement.lastSeq < known.lastSeq) this.retired.set(keyId, { ...retirement });
  }

  retirement(keyId: string): KeyRetirement | undefined {
    const r = this.retired.get(keyId);
    return r && { ...r };
  }

  /** Every retired key's range, by key id (what verifiers and the JWKS carry). */
  retirements(): Map<string, KeyRetirement> {
    return new Map([...this.retired].map(([keyId, r]) => [keyId, { ...r }]));
  }

  /**
   * Active key first, so naive consumers that take keys[0] pick the current one. A retired
   * key is published for verifying old records only: `key_ops: ["verify"]` (instead of
   * `use`), `countersign_last_seq` and `countersign_retired_at`.
   */
  jwks(): { keys: Ed25519Jwk[] } {
    return {
      keys: this.all().map((key) => {
        const jwk = publicJwk(key.publicKey);
        const retirement = this.retired.get(key.keyId);
        if (!retirement) return jwk;
        const { use: _use, ...rest } = jwk;
        return { ...rest, ...retiredJwkMembers(retirement) };
      }),
    };
  }
}
