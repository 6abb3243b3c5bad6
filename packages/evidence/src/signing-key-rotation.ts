import { DomainError, type SealedArtifact } from '@countersign/contracts';
import { checkArtifactBody } from './body.ts';
import { retirementFromRotation, ROTATION_KIND, type RotationEvent } from './key-retirement.ts';
import type { Keyring } from './keyring.ts';

/** What the chain says about signing keys, read under the chain-head lock (packages/db). */
export interface SigningKeyChainState {
  /** The newest artifact's seq and signer; null for an empty chain. */
  head: { seq: number; keyId: string } | null;
  /** Every sealed `signing-key.rotated` artifact, oldest first. */
  rotations: readonly SealedArtifact[];
}

/**
 * At start, before this process signs anything: teach the keyring every retirement the chain
 * records (refusing to start if the active key is one of them), and, when the chain was last
 * signed by another key, retire that key at the head and return the rotation to seal — with
 * the active key, in the same transaction, as the very next artifact. `at` becomes the
 * retirement time: the caller seals the rotation with this same clock reading.
 */
export function reconcileSigningKey(keyring: Keyring, chain: SigningKeyChainState, at: Date): RotationEvent | null {
  for (const artifact of chain.rotations) {
    const checked = checkArtifactBody(parseCanonical(artifact));
    const found = checked.ok ? retirementFromRotation(checked.value) : null;
    if (!found) throw new DomainError('internal', `artifact seq ${artifact.seq} is stored as ${ROTATION_KIND} but its body is not one`);
    keyring.retire(found.keyId, found.retirement);
  }
  const { head } = chain;
  // A rotation is the chain's last signer still held as a verification key behind a new active
  // key (`signing-key rotate`, or a new PEM put first). A last signer this keyring does not hold
  // is another process's independent key, not a key this one replaces.
  if (!head || head.keyId === keyring.active.keyId || !keyring.get(head.keyId) || keyring.retirement(head.keyId)) return null;
  const event: RotationEvent = { kind: ROTATION_KIND, previousKeyId: head.keyId, newKeyId: keyring.active.keyId, previousKeyLastSeq: head.seq };
  keyring.retire(head.keyId, { lastSeq: head.seq, retiredAt: at.toISOString(), successorKeyId: keyring.active.keyId });
  return event;
}

function parseCanonical(artifact: SealedArtifact): unknown {
  try {
    return JSON.parse(artifact.canonical);
  } catch {
    return null;
  }
}
