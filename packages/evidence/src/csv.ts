import type { SealedArtifact } from '@countersign/contracts';
import { TRAILER_TYPE, type ExportTrailer } from './trailer.ts';

/**
 * CSV form of an export (RFC 4180). Same content as JSONL: one artifact per row, the signed
 * trailer as the final row with kind `export.trailer`. Rows are returned WITHOUT a line
 * terminator; join them with "\r\n" (RFC 4180) — verify also accepts "\n".
 */
export const CSV_COLUMNS = ['seq', 'at', 'kind', 'actionId', 'hash', 'prevHash', 'keyId', 'signature', 'canonical'] as const;

export function exportCsvHeader(): string {
  return CSV_COLUMNS.join(',');
}

export function artifactToCsvRow(a: SealedArtifact): string {
  return toCsvRow([a.seq, a.at, a.kind, a.actionId, a.hash, a.prevHash, a.keyId, a.signature, a.canonical]);
}

export function trailerToCsvRow(t: ExportTrailer): string {
  return toCsvRow([null, null, TRAILER_TYPE, null, null, null, t.keyId, t.signature, t.canonical]);
}

/** One RFC 4180 row; null becomes an empty field. */
export function toCsvRow(fields: ReadonlyArray<string | number | null>): string {
  return fields.map(csvField).join(',');
}

function csvField(value: string | number | null): string {
  if (value === null) return '';
  const text = String(value);
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/**
 * Parse one RFC 4180 record. Returns null when the text ends inside a quoted field (the
 * record continues on the next line), throws on malformed quoting.
 */
export function parseCsvRecord(text: string): string[] | null {
  const fields: string[] = [];
  let i = 0;
  for (;;) {
    if (text.charCodeAt(i) === 34 /* " */) {
      let value = '';
      let start = i + 1;
      for (;;) {
        const quote = text.indexOf('"', start);
        if (quote === -1) return null;
        value += text.slice(start, quote);
        if (text.charCodeAt(quote + 1) === 34) {
          value += '"';
          start = quote + 2;
          continue;
        }
        i = quote + 1;
        break;
      }
      fields.push(value);
    } else {
      const comma = text.indexOf(',', i);
      const end = comma === -1 ? text.length : comma;
      const value = text.slice(i, end);
      if (value.includes('"')) throw new Error(`quote inside unquoted field ${fields.length + 1}`);
      fields.push(value);
      i = end;
    }
    if (i === text.length) return fields;
    if (text.charCodeAt(i) !== 44 /* , */) throw new Error(`unexpected character after quoted field ${fields.length}`);
    i += 1;
  }
}

/** A CSV row turned back into the JSONL line shape, so one verifier checks both formats. */
export function csvFieldsToRecord(fields: string[]): Record<string, unknown> {
  if (fields.length !== CSV_COLUMNS.length) throw new Error(`expected ${CSV_COLUMNS.length} fields, got ${fields.length}`);
  const [seq, at, kind, actionId, hash, prevHash, keyId, signature, canonical] = fields as [
    string, string, string, string, string, string, string, string, string,
  ];
  if (kind === TRAILER_TYPE) {
    if (seq || at || actionId || hash || prevHash) throw new Error('trailer row must leave seq, at, actionId, hash and prevHash empty');
    return { type: TRAILER_TYPE, canonical, signature, keyId };
  }
  if (!/^[1-9][0-9]*$/.test(seq)) throw new Error(`seq "${seq}" is not a positive integer`);
  return { seq: Number(seq), kind, actionId: actionId === '' ? null : actionId, at, canonical, hash, prevHash, signature, keyId };
}
