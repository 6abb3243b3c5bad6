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
  /**
   * A CSV row cut by a newline inside quotes, waiting for its next line: its physical lines so
   * far, the line it began at, and whether it is the header (a column name may hold a newline).
   */
  carry: { parts: string[]; loose: number; chars: number; line: number; header: boolean } | null;
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

type NextLine = { line: number; text: string; format: 'jsonl' | 'csv' } | { problem: VerifyProblem } | null;

/**
 * The next logical line to check, or null when this physical line carries nothing to check
 * (blank, the CSV header, a row still open). A CR ending the line and a leading BOM are
 * dropped.
 */
function readLine(input: ExportInput, rawLine: string): NextLine {
  input.lineNo += 1;
  const cr = rawLine.endsWith('\r');
  let text = cr ? rawLine.slice(0, -1) : rawLine;
  if (input.carry) return continueRow(input.carry, input, text, cr);
  if (input.lineNo === 1 && text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  if (text.trim() === '') return null;
  if (input.format === 'jsonl' || (input.format === null && text.startsWith('{'))) {
    // A JSONL export starts with a record or trailer object; a CSV one with its header row.
    input.format = 'jsonl';
    return { line: input.lineNo, text, format: 'jsonl' };
  }
  if (csvRowContinues(text, 0, false)) {
    // The line break is inside a quoted field, so a CR before it is the field's own (a reason
    // typed with CRLF): kept, or the cell would differ from the signed value it shows.
    const first = cr ? `${text}\r` : text;
    input.carry = { parts: [first], loose: 1, chars: first.length, line: input.lineNo, header: input.format === null };
    return null;
  }
  return input.format === null ? firstLine(input, input.lineNo, text) : { line: input.lineNo, text, format: 'csv' };
}

/**
 * The most a row whose quoted field spans lines may hold, line breaks included: far above any
 * row an export writes (the service caps what one request can carry at 64 KB), low enough that
 * a file left open by one stray quote is refused before it fills memory. A header's column
 * names are short.
 */
export const MAX_CARRIED_ROW_CHARS = 8 * 1024 * 1024;
export const MAX_CARRIED_HEADER_CHARS = 64 * 1024;
/** Carried lines are joined every so often, so a run of short lines holds no array slot each. */
const PARTS_TO_JOIN = 4096;

/**
 * A physical line of a row whose quoted field is open. Only this line is scanned (the row so
 * far ends inside quotes, and a quote never pairs across a line break), and the row is joined
 * once it ends: rescanning the whole row at every line made a row left open, as a cut or
 * hostile export may have, cost time quadratic in the lines after it.
 */
function continueRow(carry: NonNullable<ExportInput['carry']>, input: ExportInput, text: string, cr: boolean): NextLine {
  if (csvRowContinues(text, 0, true)) {
    const part = cr ? `${text}\r` : text;
    carry.chars += part.length + 1;
    if (carry.chars > (carry.header ? MAX_CARRIED_HEADER_CHARS : MAX_CARRIED_ROW_CHARS)) {
      // Refused at the line the row began; nothing after it is read.
      input.carry = null;
      input.format ??= 'csv';
      const limit = carry.header ? '64 KiB' : '8 MiB';
      return { problem: { line: carry.line, code: 'invalid_csv', message: `a quoted field runs on past ${limit} (a stray quote, or not an export)` } };
    }
    carry.parts.push(part);
    // The last lines become one string (a join of a join is the same text), so the array grows
    // by one slot per PARTS_TO_JOIN lines and nothing is copied twice.
    if (++carry.loose === PARTS_TO_JOIN) {
      carry.parts.push(carry.parts.splice(-PARTS_TO_JOIN).join('\n'));
      carry.loose = 0;
    }
    return null;
  }
  input.carry = null;
  carry.parts.push(text);
  const row = carry.parts.join('\n');
  return carry.header ? firstLine(input, carry.line, row) : { line: carry.line, text: row, format: 'csv' };
}

/** The export's first row: the CSV header when it names the `seq` column, else a JSONL line. */
function firstLine(input: ExportInput, line: number, text: string): NextLine {
  const header = csvHeader(text);
  if (header === null) {
    input.format = 'jsonl';
    return { line, text, format: 'jsonl' };
  }
  input.format = 'csv';
  const layout = csvLayout(header);
  if (!layout.ok) return { problem: { line, code: 'invalid_csv', message: layout.message } };
  input.csv = layout.layout;
  input.headerFormula = header.some(runsAsFormula);
  return null;
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
  return { kind: 'text', line: next.line, endLine: input.lineNo, text: next.text, format: next.format, csv: input.csv };
}

/** At the end of the input: the CSV row still open, if any. */
export function endOfExport(input: ExportInput): ReadLine | null {
  if (!input.carry) return null;
  // A first row left open was read as a CSV row: the report says csv, as its problem does.
  input.format ??= 'csv';
  return { kind: 'unterminated', line: input.carry.line };
}

/**
 * True when `text`, scanned from `from` (inside a quoted field when `quoted`), ends inside a
 * quoted field: the row continues on the next line. As parseCsvRecord reads a row, which
 * returns null exactly then; a malformed row is complete, and refused when examined.
 */
export function csvRowContinues(text: string, from: number, quoted: boolean): boolean {
  let i = from;
  let inQuotes = quoted;
  for (;;) {
    if (inQuotes) {
      const quote = text.indexOf('"', i);
      if (quote === -1) return true;
      i = quote + 1;
      // A doubled quote is a quote in the value; a single one ends the field.
      if (text.charCodeAt(i) === 34 /* " */) {
        i += 1;
        continue;
      }
      inQuotes = false;
      if (i === text.length || text.charCodeAt(i) !== 44 /* , */) return false;
      i += 1;
    } else if (text.charCodeAt(i) === 34) {
      inQuotes = true;
      i += 1;
    } else {
      const comma = text.indexOf(',', i);
      const end = comma === -1 ? text.length : comma;
      const quote = text.indexOf('"', i);
      if (comma === -1 || (quote !== -1 && quote < end)) return false;
      i = end + 1;
    }
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
