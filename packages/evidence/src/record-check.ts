import type { KeyObject } from 'node:crypto';
import type { ArtifactBody } from '@countersign/contracts';
import { actionIdOf, checkArtifactBody } from './body.ts';
import { canonicalJsonOfParsed, sha256Hex } from './canonical.ts';
import { cellShows, signedColumnsOf, type SignedColumns } from './csv.ts';
import type { VerifyProblemCode } from './verify-report.ts';

// Sync, per-line checks of one export record, in the order a reader would reason: shape,
// canonical form, hash, body, outer fields, key. The signature and the chain link are checked
// by the caller (the signature asynchronously, off the main thread).

export interface CheckedRecord {
  seq: number;
  hash: string;
  prevHash: string;
  keyId: string;
  bytes: Buffer;
  signature: Buffer;
  publicKey: KeyObject;
  /** The signed body, parsed (rotation records change what later records may be signed with). */
  body: ArtifactBody;
}

export type RecordCheck = { ok: true; value: CheckedRecord } | { ok: false; code: VerifyProblemCode; message: string; seq?: number };

const RECORD_KEYS = ['actionId', 'at', 'canonical', 'hash', 'keyId', 'kind', 'prevHash', 'seq', 'signature'];
const LONE_SURROGATE = /\p{Cs}/u;
// 64-byte Ed25519 signature in standard base64: 86 chars + "==". Buffer.from is lenient
// (skips junk), so the text form is checked first.
const SIGNATURE_B64 = /^[A-Za-z0-9+/]{86}==$/;

/** `signed`: a CSV row's columns read from the signed body, each checked against it. */
export function checkRecord(raw: Record<string, unknown>, keys: Map<string, KeyObject>, csv: boolean, signed: Partial<SignedColumns> = {}): RecordCheck {
  const keyNames = Object.keys(raw).sort();
  if (keyNames.length !== RECORD_KEYS.length || keyNames.some((key, i) => key !== RECORD_KEYS[i])) {
    return { ok: false, code: 'invalid_record', message: `record fields must be exactly ${RECORD_KEYS.join(', ')}; got ${keyNames.join(', ')}`, ...seqOf(raw.seq) };
  }
  const { seq, kind, actionId, at, canonical, hash, prevHash, signature, keyId } = raw;
  if (
    typeof seq !== 'number' || typeof kind !== 'string' || (actionId !== null && typeof actionId !== 'string') ||
    typeof at !== 'string' || typeof canonical !== 'string' || typeof hash !== 'string' ||
    typeof prevHash !== 'string' || typeof signature !== 'string' || typeof keyId !== 'string'
  ) {
    return { ok: false, code: 'invalid_record', message: 'record field of the wrong type', ...seqOf(seq) };
  }

  let parsed: unknown;
  try {
    parsed = JSON.parse(canonical);
  } catch {
    return { ok: false, code: 'not_canonical', message: 'canonical is not JSON', seq };
  }
  const unchecked = canonicalFormProblem(parsed, canonical);
  if (unchecked) return { ok: false, code: 'not_canonical', message: unchecked, seq };
  const bytes = Buffer.from(canonical, 'utf8');
  const actualHash = sha256Hex(bytes);
  if (actualHash !== hash) {
    return { ok: false, code: 'hash_mismatch', message: `hash ${hash} is not sha256(canonical) = ${actualHash}`, seq };
  }

  const checked = checkArtifactBody(parsed);
  if (!checked.ok) return { ok: false, code: 'invalid_body', message: checked.message, ...seqOf((parsed as { seq?: unknown }).seq ?? seq) };
  const body = checked.value;

  const expectedActionId = actionIdOf(body.event);
  const outer: Array<[string, unknown, unknown]> = [
    ['seq', seq, body.seq],
    ['kind', kind, body.event.kind],
    // CSV cannot tell an empty string from null; both are an empty field.
    ['actionId', actionId, csv && expectedActionId === '' ? null : expectedActionId],
    ['at', at, body.at],
    ['keyId', keyId, body.keyId],
    ['prevHash', prevHash, body.prevHash],
  ];
  for (const [field, got, signed] of outer) {
    if (got !== signed) {
      return { ok: false, code: 'field_mismatch', message: `${field} ${JSON.stringify(got)} differs from the signed body's ${JSON.stringify(signed)}`, seq: body.seq };
    }
  }
  const columnProblem = checkSignedColumns(signed, body);
  if (columnProblem) return { ok: false, code: 'field_mismatch', message: columnProblem, seq: body.seq };

  const publicKey = keys.get(body.keyId);
  if (!publicKey) return { ok: false, code: 'unknown_key', message: `no public key for keyId ${body.keyId}`, seq: body.seq };
  if (!SIGNATURE_B64.test(signature)) {
    return { ok: false, code: 'bad_signature', message: 'signature is not a base64 Ed25519 signature', seq: body.seq };
  }
  return {
    ok: true,
    value: { seq: body.seq, hash, prevHash: body.prevHash, keyId: body.keyId, bytes, signature: Buffer.from(signature, 'base64'), publicKey, body },
  };
}

/** Why `canonical` (parsed) is not its own RFC 8785 form, or cannot be shown to be; null if it is. */
function canonicalFormProblem(parsed: unknown, canonical: string): string | null {
  let form: string;
  try {
    form = canonicalJsonOfParsed(parsed);
  } catch {
    // JSON nested deeper than the serialiser can recurse: unverifiable, so refused (never a crash).
    return 'canonical is nested too deeply to check';
  }
  if (form !== canonical || LONE_SURROGATE.test(canonical)) return 'canonical is not RFC 8785 canonical JSON';
  return null;
}

/** A CSV column shown from the signed body must say what the body says. */
function checkSignedColumns(columns: Partial<SignedColumns>, body: ArtifactBody): string | null {
  const names = Object.keys(columns) as Array<keyof SignedColumns>;
  if (names.length === 0) return null;
  const expected = signedColumnsOf(body.event);
  for (const name of names) {
    if (!cellShows(columns[name], expected[name])) return `column ${name} ${JSON.stringify(columns[name])} differs from the signed body's ${JSON.stringify(expected[name])}`;
  }
  return null;
}

function seqOf(value: unknown): { seq?: number } {
  return typeof value === 'number' && Number.isSafeInteger(value) ? { seq: value } : {};
}
