import { exportCsvHeader } from './csv.ts';

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
}

export function newExportInput(): ExportInput {
  return { format: null, lineNo: 0, carry: null };
}

const CSV_HEADER = exportCsvHeader();

/**
 * The next logical line to check, or null when this physical line carries nothing to check
 * (blank, the CSV header). CR and a leading BOM are dropped; a carried CSV row is joined with
 * this line and reported at the line where it began.
 */
export function readLine(input: ExportInput, rawLine: string): { line: number; text: string; format: 'jsonl' | 'csv' } | null {
  input.lineNo += 1;
  let text = rawLine.endsWith('\r') ? rawLine.slice(0, -1) : rawLine;
  if (input.lineNo === 1 && text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  if (input.carry) {
    text = `${input.carry.text}\n${text}`;
  } else if (text.trim() === '') {
    return null;
  }
  if (input.format === null) {
    input.format = text === CSV_HEADER ? 'csv' : 'jsonl';
    if (input.format === 'csv') return null;
  }
  const line = input.carry?.line ?? input.lineNo;
  input.carry = null;
  return { line, text, format: input.format };
}

/** Keeps a CSV row whose quoted field is still open, to be joined with the next line. */
export function carryLine(input: ExportInput, text: string, line: number): void {
  input.carry = { text, line };
}
