import { verify as verifySignature, type KeyObject } from 'node:crypto';
import { canonicalJsonOfParsed } from './canonical.ts';
import { checkTrailerBody, type TrailerBody } from './trailer.ts';
import type { VerifyProblemCode } from './verify-report.ts';

export interface ChainSummary {
  records: number;
  firstSeq: number | null;
  lastSeq: number | null;
  lastHash: string | null;
}

export type TrailerCheck = { ok: true; value: TrailerBody } | { ok: false; code: VerifyProblemCode; message: string };

const TRAILER_KEYS = ['canonical', 'keyId', 'signature', 'type'];
const SIGNATURE_B64 = /^[A-Za-z0-9+/]{86}==$/;

/**
 * Check the trailer's form and signature, then that it describes exactly what was read:
 * count, first/last seq and last hash, and for a selection the digest of every record's hash
 * in order (`selectionDigest`: SelectionDigest over what was read).
 */
export function checkTrailer(raw: Record<string, unknown>, keys: Map<string, KeyObject>, read: ChainSummary, selectionDigest?: string): TrailerCheck {
  const names = Object.keys(raw).sort();
  if (names.length !== TRAILER_KEYS.length || names.some((key, i) => key !== TRAILER_KEYS[i])) {
    return { ok: false, code: 'trailer_invalid', message: `trailer fields must be exactly ${TRAILER_KEYS.join(', ')}` };
  }
  const { canonical, keyId, signature } = raw;
  if (typeof canonical !== 'string' || typeof keyId !== 'string' || typeof signature !== 'string') {
    return { ok: false, code: 'trailer_invalid', message: 'trailer field of the wrong type' };
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(canonical);
  } catch {
    return { ok: false, code: 'trailer_invalid', message: 'trailer canonical is not JSON' };
  }
  let form: string;
  try {
    form = canonicalJsonOfParsed(parsed);
  } catch {
    return { ok: false, code: 'trailer_invalid', message: 'trailer canonical is nested too deeply to check' };
  }
  if (form !== canonical) return { ok: false, code: 'trailer_invalid', message: 'trailer canonical is not RFC 8785 canonical JSON' };
  const checked = checkTrailerBody(parsed);
  if (!checked.ok) return { ok: false, code: 'trailer_invalid', message: checked.message };
  const body = checked.value;
  if (body.keyId !== keyId) return { ok: false, code: 'trailer_invalid', message: `keyId ${keyId} differs from the signed body's ${body.keyId}` };

  const publicKey = keys.get(keyId);
  if (!publicKey) return { ok: false, code: 'unknown_key', message: `no public key for the trailer's keyId ${keyId}` };
  const valid = SIGNATURE_B64.test(signature) && verifySignature(null, Buffer.from(canonical, 'utf8'), publicKey, Buffer.from(signature, 'base64'));
  if (!valid) return { ok: false, code: 'trailer_bad_signature', message: `trailer signature does not verify with key ${keyId}` };

  if (body.records !== read.records || body.firstSeq !== read.firstSeq || body.lastSeq !== read.lastSeq || body.lastHash !== read.lastHash) {
    return {
      ok: false,
      code: 'trailer_mismatch',
      message: `trailer says ${describe(body)}; the export holds ${describe(read)}`,
    };
  }
  if (body.selection && body.selection.digest !== selectionDigest) {
    return {
      ok: false,
      code: 'trailer_mismatch',
      message: `the selection's signed digest ${body.selection.digest} differs from the digest of the records read, ${selectionDigest ?? 'none'}: records were removed, added or replaced`,
    };
  }
  return { ok: true, value: body };
}

function describe(s: ChainSummary): string {
  return s.records === 0 ? '0 records' : `${s.records} records, seq ${s.firstSeq}..${s.lastSeq}, last hash ${s.lastHash}`;
}
