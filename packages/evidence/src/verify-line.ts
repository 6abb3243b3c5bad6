import type { KeyObject } from 'node:crypto';
import type { ArtifactBody } from '@countersign/contracts';
import type { CsvLayout } from './csv.ts';
import { parseExportLine } from './export-line.ts';
import { ROTATION_KIND } from './key-retirement.ts';
import { checkRecord, type CheckedRecord } from './record-check.ts';
import { TRAILER_TYPE } from './trailer.ts';
import type { VerifyProblemCode } from './verify-report.ts';
import { verifySignatureNow, type SignatureResult } from './verify-signatures.ts';

// What one logical line says on its own: parsed, its record's fields, canonical form, hash, body
// and key checked, its signature verified. Nothing here depends on the lines before it, so this
// is the work that can be spread over threads; the chain (order, links, key ranges, trailer) is
// judged afterwards, in export order, on one thread (verify-judge.ts).

/** What the chain needs to know of a record that passed its own checks. */
export interface RecordLink {
  seq: number;
  hash: string;
  prevHash: string;
  keyId: string;
  /** The signed body when it is a key rotation (it bounds the retired key); null otherwise. */
  rotation: ArtifactBody | null;
}

/** A line's own verdict. `S` is how its signature result arrives: at once, or later. */
export type LineOutcome<S = SignatureResult> =
  | { kind: 'problem'; code: VerifyProblemCode; message: string }
  | { kind: 'trailer'; raw: Record<string, unknown> }
  | { kind: 'bad-record'; annotated: boolean; code: VerifyProblemCode; message: string; seq?: number }
  | { kind: 'record'; annotated: boolean; formula: boolean; link: RecordLink; signature: S };

/** A line examined up to its signature, which the caller verifies as it sees fit. */
type Examined = Exclude<LineOutcome, { kind: 'record' }> | { kind: 'record'; annotated: boolean; formula: boolean; record: CheckedRecord };

function examine(text: string, format: 'jsonl' | 'csv', layout: CsvLayout | null, keys: Map<string, KeyObject>): Examined {
  const parsed = parseExportLine(text, format, layout);
  // Reading joins a CSV row until its quotes close (readExportLine), so a row is never open here.
  if (parsed.kind === 'incomplete') return { kind: 'problem', code: 'invalid_csv', message: 'unterminated quoted field (cut short?)' };
  if (parsed.kind === 'problem') return { kind: 'problem', code: parsed.code, message: parsed.message };
  const { raw, signed, annotated, formula } = parsed;
  if ('type' in raw) {
    if (raw.type !== TRAILER_TYPE) return { kind: 'problem', code: 'invalid_record', message: `unknown line type ${JSON.stringify(raw.type)}` };
    return { kind: 'trailer', raw };
  }
  const checked = checkRecord(raw, keys, format === 'csv', signed);
  if (!checked.ok) return { kind: 'bad-record', annotated, code: checked.code, message: checked.message, ...(checked.seq === undefined ? {} : { seq: checked.seq }) };
  return { kind: 'record', annotated, formula, record: checked.value };
}

/** A line examined on this thread; the signature is verified by `verify` (e.g. on the libuv pool). */
export function examineLine<S>(
  text: string,
  format: 'jsonl' | 'csv',
  layout: CsvLayout | null,
  keys: Map<string, KeyObject>,
  verify: (record: CheckedRecord) => S,
): LineOutcome<S> {
  const examined = examine(text, format, layout, keys);
  if (examined.kind !== 'record') return examined;
  const { record, annotated, formula } = examined;
  const link: RecordLink = {
    seq: record.seq,
    hash: record.hash,
    prevHash: record.prevHash,
    keyId: record.keyId,
    rotation: record.body.event.kind === ROTATION_KIND ? record.body : null,
  };
  return { kind: 'record', annotated, formula, link, signature: verify(record) };
}

/** A line examined completely on this thread, signature included: what a verifying thread does. */
export function examineLineNow(text: string, format: 'jsonl' | 'csv', layout: CsvLayout | null, keys: Map<string, KeyObject>): LineOutcome {
  return examineLine(text, format, layout, keys, verifySignatureNow);
}
