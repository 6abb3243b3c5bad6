import { csvLayout, parseCsvRecord, type CsvLayout } from './csv.ts';
import type { VerifyProblem } from './verify-report.ts';

/**
 * Reading an export line by line: where we are, which format the header said, and a CSV row
 * whose quoted field continues on the next line.
 */
export interface ExportInput {
  format: 'jsonl' | 'csv' | null;
  /** The physical line last read (1-based). */
  lineNo: number;
  /** A CSV row cut by a newline inside quotes, waiting for its next line. */
  carry: { text: string; line: number } | null;
  /** Where each CSV column is, from the header (extra columns allowed). */
  csv: CsvLayout | null;
}

export function newExportInput(): ExportInput {
  return { format: null, lineNo: 0, carry: null, csv: null };
}

/**
 * The next logical line to check, or null when this physical line carries nothing to check
 * (blank, the CSV header). CR and a leading BOM are dropped; a carried CSV row is joined with
 * this line and reported at the line where it began.
 */
export function readLine(
  input: ExportInput,
  rawLine: string,
): { line: number; text: string; format: 'jsonl' | 'csv' } | { problem: VerifyProblem } | null {
  input.lineNo += 1;
  let text = rawLine.endsWith('\r') ? rawLine.slice(0, -1) : rawLine;
  if (input.lineNo === 1 && text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  if (input.carry) {
    text = `${input.carry.text}\n${text}`;
  } else if (text.trim() === '') {
    return null;
  }
  if (input.format === null) {
    // A JSONL export starts with a record or trailer object; a CSV one with its header row.
    if (text.startsWith('{')) {
      input.format = 'jsonl';
    } else {
      const header = csvHeader(text);
      if (header === null) {
        input.format = 'jsonl';
      } else {
        input.format = 'csv';
        const layout = csvLayout(header);
        if (!layout.ok) return { problem: { line: input.lineNo, code: 'invalid_csv', message: layout.message } };
        input.csv = layout.layout;
        return null;
      }
    }
  }
  const line = input.carry?.line ?? input.lineNo;
  input.carry = null;
  return { line, text, format: input.format };
}

/** Keeps a CSV row whose quoted field is still open, to be joined with the next line. */
export function carryLine(input: ExportInput, text: string, line: number): void {
  input.carry = { text, line };
}

/** The first line's fields when it reads as a CSV header (it names the `seq` column), else null. */
function csvHeader(text: string): string[] | null {
  try {
    const fields = parseCsvRecord(text);
    return fields && fields.includes('seq') ? fields : null;
  } catch {
    return null;
  }
}
