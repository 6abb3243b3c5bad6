import type { ArtifactBody } from '@countersign/contracts';
import { retirementFromRotation, rotationRecordProblem, type KeyRetirement } from './key-retirement.ts';
import type { TrailerBody } from './trailer.ts';

/**
 * What a verification run knows about retired keys: ranges given up front (a JWKS) plus those
 * learnt from rotation records as the export is read. A record, trailer or token signed by a
 * key after its range is refused, whatever its signature says.
 */
export class KeyRanges {
  private readonly retired: Map<string, KeyRetirement>;

  constructor(known: ReadonlyMap<string, KeyRetirement> = new Map()) {
    this.retired = new Map([...known].map(([keyId, r]) => [keyId, { ...r }]));
  }

  /** Why a record signed by `keyId` at `seq` lies outside that key's range; null if inside. */
  recordProblem(keyId: string, seq: number): string | null {
    const r = this.retired.get(keyId);
    if (!r || seq <= r.lastSeq) return null;
    return `signed by key ${keyId}, retired after seq ${r.lastSeq} (at ${r.retiredAt}, replaced by ${r.successorKeyId})`;
  }

  /** Learns from a rotation record; returns why the record is inconsistent, if it is. */
  noteRotation(body: ArtifactBody): string | null {
    const problem = rotationRecordProblem(body);
    if (problem) return problem;
    const found = retirementFromRotation(body);
    if (!found) return null;
    const known = this.retired.get(found.keyId);
    // A JWKS and the chain telling different stories: keep the stricter range (fail closed).
    if (!known || found.retirement.lastSeq < known.lastSeq) this.retired.set(found.keyId, found.retirement);
    return null;
  }

  /** Why a trailer signed by a retired key is refused: it covers records or a time after its range. */
  trailerProblem(body: TrailerBody): string | null {
    const r = this.retired.get(body.keyId);
    if (!r) return null;
    if (body.lastSeq !== null && body.lastSeq > r.lastSeq) {
      return `the trailer covers seq ${body.lastSeq} but is signed by key ${body.keyId}, retired after seq ${r.lastSeq}`;
    }
    if (Date.parse(body.exportedAt) > Date.parse(r.retiredAt)) {
      return `the trailer was made at ${body.exportedAt} but is signed by key ${body.keyId}, retired at ${r.retiredAt}`;
    }
    return null;
  }
}
