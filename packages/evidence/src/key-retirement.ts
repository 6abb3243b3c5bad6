import type { ArtifactBody, ArtifactEvent } from '@countersign/contracts';
import { DomainError } from '@countersign/contracts/errors';
import { ISO_MS_UTC } from './body.ts';

// A rotated key is retired: it signed the chain up to a known seq and nothing after. The range
// lives in the chain itself (the `signing-key.rotated` artifact, signed by the new key, sealed
// before the new key signs anything else) and is republished in the JWKS for verifiers holding
// only part of the chain. Whoever holds a leaked old key can still sign, but nothing they sign
// after the rotation verifies: not an artifact, not an export trailer, not a release token.

export const ROTATION_KIND = 'signing-key.rotated';

export type RotationEvent = Extract<ArtifactEvent, { kind: typeof ROTATION_KIND }>;

/** Where a retired key's range ends. */
export interface KeyRetirement {
  /** The last artifact seq the key signed. */
  lastSeq: number;
  /** When the rotation that retired it was sealed (ISO 8601 UTC, milliseconds). */
  retiredAt: string;
  /** The key that replaced it. */
  successorKeyId: string;
}

/** A sealed rotation record's retirement, from its signed body. */
export function retirementFromRotation(body: ArtifactBody): { keyId: string; retirement: KeyRetirement } | null {
  const event = body.event;
  if (event.kind !== ROTATION_KIND) return null;
  return { keyId: event.previousKeyId, retirement: { lastSeq: event.previousKeyLastSeq, retiredAt: body.at, successorKeyId: event.newKeyId } };
}

/**
 * A rotation record that contradicts itself: it must be signed by the key it introduces, name
 * a different previous key, and retire that key at the record just before it.
 */
export function rotationRecordProblem(body: ArtifactBody): string | null {
  const event = body.event;
  if (event.kind !== ROTATION_KIND) return null;
  if (event.newKeyId !== body.keyId) return `the rotation to ${event.newKeyId} is signed by ${body.keyId}; a rotation is signed by the key it introduces`;
  if (event.previousKeyId === event.newKeyId) return `the rotation names ${event.newKeyId} as both previous and new key`;
  if (event.previousKeyLastSeq !== body.seq - 1) {
    return `the rotation at seq ${body.seq} says ${event.previousKeyId} last signed seq ${event.previousKeyLastSeq}; it must be seq ${body.seq - 1}`;
  }
  return null;
}

/** The JWKS members that mark a retired key (see Keyring.jwks). */
export function retiredJwkMembers(r: KeyRetirement): {
  key_ops: ['verify'];
  countersign_last_seq: number;
  countersign_retired_at: string;
  countersign_successor: string;
} {
  return { key_ops: ['verify'], countersign_last_seq: r.lastSeq, countersign_retired_at: r.retiredAt, countersign_successor: r.successorKeyId };
}

/**
 * Retired keys' ranges from a JWKS as `/.well-known/jwks.json` serves it. A key that carries
 * one of the members must carry them all, well-formed: a range that cannot be read is an error,
 * never a reason to treat the key as current.
 */
export function retirementsFromJwks(jwks: unknown): Map<string, KeyRetirement> {
  const list = isRecord(jwks) && Array.isArray(jwks.keys) ? (jwks.keys as unknown[]) : [jwks];
  const out = new Map<string, KeyRetirement>();
  for (const jwk of list) {
    if (!isRecord(jwk)) continue;
    const { kid, countersign_last_seq: lastSeq, countersign_retired_at: retiredAt, countersign_successor: successor } = jwk;
    if (lastSeq === undefined && retiredAt === undefined && successor === undefined) continue;
    if (
      typeof kid !== 'string' ||
      typeof lastSeq !== 'number' || !Number.isSafeInteger(lastSeq) || lastSeq < 1 ||
      typeof retiredAt !== 'string' || !ISO_MS_UTC.test(retiredAt) || Number.isNaN(Date.parse(retiredAt)) ||
      typeof successor !== 'string'
    ) {
      throw new DomainError('invalid_request', `JWK ${String(kid)} has a malformed retirement (countersign_last_seq, countersign_retired_at, countersign_successor)`);
    }
    out.set(kid, { lastSeq, retiredAt, successorKeyId: successor });
  }
  return out;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
