import { csvFieldsToRecord, parseCsvRecord, type CsvLayout, type SignedColumns } from './csv.ts';
import { SUBJECT_MEMBER } from './subject.ts';
import type { VerifyProblemCode } from './verify-report.ts';

/** One export line (JSONL) or row (CSV) turned into the JSONL object shape. */
export type ParsedLine =
  | {
      kind: 'record';
      /** The record's verified fields (or the trailer's), the unsigned annotation taken out. */
      raw: Record<string, unknown>;
      /** CSV columns read from the signed body, to be checked against it. */
      signed: Partial<SignedColumns>;
      /** The line carried an unsigned annotation (a `subject` member, annotation columns): ignored. */
      annotated: boolean;
      /** CSV: a shown cell a spreadsheet would run as a formula (CsvRecord.formula). */
      formula: boolean;
    }
  /** A CSV quoted field continues on the next line. */
  | { kind: 'incomplete' }
  | { kind: 'problem'; code: VerifyProblemCode; message: string };

export function parseExportLine(text: string, format: 'jsonl' | 'csv', layout: CsvLayout | null = null): ParsedLine {
  if (format === 'csv') {
    try {
      const fields = parseCsvRecord(text);
      if (fields === null) return { kind: 'incomplete' };
      if (!layout) return { kind: 'problem', code: 'invalid_csv', message: 'no CSV header' };
      return { kind: 'record', ...csvFieldsToRecord(fields, layout) };
    } catch (err) {
      return { kind: 'problem', code: 'invalid_csv', message: (err as Error).message };
    }
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return { kind: 'problem', code: 'invalid_json', message: 'line is not valid JSON (cut short?)' };
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    return { kind: 'problem', code: 'invalid_json', message: 'line is not a JSON object' };
  }
  const raw = parsed as Record<string, unknown>;
  // A record's `subject` (what was approved) is not signed: it is set aside, unchecked, before
  // the record's exact fields are verified. The trailer has no annotation.
  if (!('type' in raw) && SUBJECT_MEMBER in raw) {
    const { [SUBJECT_MEMBER]: subject, ...rest } = raw;
    if (typeof subject !== 'object' || subject === null || Array.isArray(subject)) {
      return { kind: 'problem', code: 'invalid_record', message: `${SUBJECT_MEMBER} (an unsigned annotation) must be an object` };
    }
    return { kind: 'record', raw: rest, signed: {}, annotated: true, formula: false };
  }
  return { kind: 'record', raw, signed: {}, annotated: false, formula: false };
}
