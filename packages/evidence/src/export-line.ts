import { csvFieldsToRecord, parseCsvRecord } from './csv.ts';
import type { VerifyProblemCode } from './verify-report.ts';

/** One export line (JSONL) or row (CSV) turned into the JSONL object shape. */
export type ParsedLine =
  | { kind: 'record'; raw: Record<string, unknown> }
  /** A CSV quoted field continues on the next line. */
  | { kind: 'incomplete' }
  | { kind: 'problem'; code: VerifyProblemCode; message: string };

export function parseExportLine(text: string, format: 'jsonl' | 'csv'): ParsedLine {
  if (format === 'csv') {
    try {
      const fields = parseCsvRecord(text);
      return fields === null ? { kind: 'incomplete' } : { kind: 'record', raw: csvFieldsToRecord(fields) };
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
  return { kind: 'record', raw: parsed as Record<string, unknown> };
}
