import { DomainError, type ArtifactBody, type ArtifactEvent, type SealedArtifact } from '@countersign/contracts';
import { actionIdOf, checkEvent, HASH_HEX, isSeq, ISO_MS_UTC } from './body.ts';
import { canonicalJson, sha256Hex } from './canonical.ts';
import { signEd25519 } from './ed25519.ts';
import type { SigningKey } from './keys.ts';

export interface SealInput {
  seq: number;
  prevHash: string;
  at: Date;
  event: ArtifactEvent;
  key: SigningKey;
}

/**
 * Seal one artifact: canonical body, its hash and an Ed25519 signature over the exact bytes.
 * The caller (the DB layer) holds the chain-head lock and passes the next seq and the head's
 * hash; it stores the result verbatim. An event that does not match the schema is a bug in
 * the caller and throws: it must never become evidence.
 */
export function sealArtifact(input: SealInput): SealedArtifact {
  const { seq, prevHash, at, key } = input;
  if (!isSeq(seq)) throw new DomainError('internal', `cannot seal artifact: seq ${seq} is not a positive integer`);
  if (!HASH_HEX.test(prevHash)) throw new DomainError('internal', 'cannot seal artifact: prevHash must be 64 lowercase hex');
  // Years outside 0000-9999 serialise with a sign prefix that verifiers reject.
  if (Number.isNaN(at.getTime()) || !ISO_MS_UTC.test(at.toISOString())) {
    throw new DomainError('internal', 'cannot seal artifact: invalid date');
  }
  const checked = checkEvent(input.event);
  if (!checked.ok) throw new DomainError('internal', `cannot seal artifact: ${checked.message}`);
  const event = checked.value;

  const body: ArtifactBody = { v: 1, seq, prevHash, at: at.toISOString(), keyId: key.keyId, event };
  const canonical = canonicalJson(body);
  const bytes = Buffer.from(canonical, 'utf8');
  return {
    seq,
    kind: event.kind,
    actionId: actionIdOf(event),
    at: body.at,
    canonical,
    hash: sha256Hex(bytes),
    prevHash,
    signature: signEd25519(bytes, key.privateKey).toString('base64'),
    keyId: key.keyId,
  };
}
