import { csvLayout, parseCsvRecord, runsAsFormula, type CsvLayout } from './csv.ts';
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
  /**
   * A CSV header cell a spreadsheet would run as a formula (an added column's name): the file
   * is no safer to open than a row with one, so it counts among `formulaRows`.
   */
  headerFormula: boolean;
}

export function newExportInput(): ExportInput {
  return { format: null, lineNo: 0, carry: null, csv: null, headerFormula: false };
}

/**
 * The next logical line to check, or null when this physical line carries nothing to check
 * (blank, the CSV header). A CR ending the line and a leading BOM are dropped; a carried CSV
 * row is joined with this line and reported at the line where it began.
 */
function readLine(
  input: ExportInput,
  rawLine: string,
): { line: number; text: string; format: 'jsonl' | 'csv'; cr: boolean } | { problem: VerifyProblem } | null {
  input.lineNo += 1;
  const cr = rawLine.endsWith('\r');
  let text = cr ? rawLine.slice(0, -1) : rawLine;
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
        input.headerFormula = header.some(runsAsFormula);
        return null;
      }
    }
  }
  const line = input.carry?.line ?? input.lineNo;
  input.carry = null;
  return { line, text, format: input.format, cr };
}

/**
 * What reading one physical line yields for the checks, in export order:
 * - `text`: a logical line (a CSV row whose quoted field spans lines is joined) from its first
 *   physical `line` to `endLine`, to be examined on its own (with the header's `csv` layout)
 *   and then judged in order;
 * - `problem`: the CSV header is unusable;
 * - `unterminated`: the export ended inside a quoted CSV field begun at `line`.
 */
export type ReadLine =
  | { kind: 'text'; line: number; endLine: number; text: string; format: 'jsonl' | 'csv'; csv: CsvLayout | null }
  | { kind: 'problem'; problem: VerifyProblem }
  | { kind: 'unterminated'; line: number };

/**
 * The next logical line of the export, or null while there is none yet (blank line, header,
 * a CSV row still open). Reading depends only on the text, never on the verdict so far, so it
 * can run ahead of the checks (which may run on other threads).
 */
export function readExportLine(input: ExportInput, rawLine: string): ReadLine | null {
  const next = readLine(input, rawLine);
  if (!next) return null;
  if ('problem' in next) return { kind: 'problem', problem: next.problem };
  if (next.format === 'csv' && csvRowOpen(next.text)) {
    // The line break is inside a quoted field, so a CR before it is the field's own (a reason
    // typed with CRLF): kept, or the cell would differ from the signed value it shows.
    input.carry = { text: next.cr ? `${next.text}\r` : next.text, line: next.line };
    return null;
  }
  return { kind: 'text', line: next.line, endLine: input.lineNo, text: next.text, format: next.format, csv: input.csv };
}

/** At the end of the input: the CSV row still open, if any. */
export function endOfExport(input: ExportInput): ReadLine | null {
  return input.carry ? { kind: 'unterminated', line: input.carry.line } : null;
}

/** The row ends inside a quoted field (parseCsvRecord's null); a malformed row is complete, and refused when examined. */
function csvRowOpen(text: string): boolean {
  try {
    return parseCsvRecord(text) === null;
  } catch {
    return false;
  }
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
