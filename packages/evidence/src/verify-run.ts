import { addedColumns } from './csv.ts';
import { parseExportLine } from './export-line.ts';
import { checkTrailer } from './trailer-check.ts';
import { TRAILER_TYPE, type TrailerBody } from './trailer.ts';
import { endOfExport, readExportLine, type ReadLine } from './verify-input.ts';
import { judgeLine, type JudgedLine, type Verification } from './verify-judge.ts';
import type { VerifyProblem, VerifyReport } from './verify-report.ts';

/**
 * Examines lines on their own (verify-line.ts): on this thread, or spread over threads. Lines
 * come back in the order they went in; how many at a time is the examiner's choice.
 */
export interface LineExaminer {
  /** Takes the next line read; returns the lines examined since, in export order. */
  examine(read: ReadLine): JudgedLine[] | Promise<JudgedLine[]>;
  /** At the end of the input: every line still being examined. */
  flush(): JudgedLine[] | Promise<JudgedLine[]>;
  /** Verification is over, finished or stopped early: release what the examiner holds. */
  close(): Promise<void>;
}

/**
 * Reads the export, has each line examined, judges them in order, then the trailer. Reading may
 * run ahead of judging (an examiner on other threads); whatever was read past the line where
 * judging stopped is ignored, so the report depends on the lines only.
 */
export async function runVerification(
  lines: Iterable<string> | AsyncIterable<string>,
  v: Verification,
  examiner: LineExaminer,
  requireTrailer: boolean,
): Promise<VerifyReport> {
  let stopped = false;
  let physical = 0;
  // The last non-blank physical line: the trailer, when reading went on past a stop to find it.
  // (Set in take(): typed by hand, or the compiler would hold it to its initial null below.)
  let last = null as { text: string; line: number } | null;
  // One physical line: false once judging has stopped and nothing more need be read.
  const take = (rawLine: string): boolean | Promise<boolean> => {
    physical += 1;
    if (rawLine.trim() !== '') last = { text: rawLine, line: physical };
    if (stopped) return true;
    const read = readExportLine(v.input, rawLine);
    if (!read) return true;
    const examined = examiner.examine(read);
    const go = examined instanceof Promise ? examined.then((lines) => judgeAll(v, lines)) : judgeAll(v, examined);
    return typeof go === 'boolean' ? afterJudging(go) : go.then(afterJudging);
  };
  const afterJudging = (go: boolean): boolean => {
    if (go) return true;
    stopped = true;
    // Stopped at a problem after a seq gap: whether the gap is one too depends on the
    // trailer (a selection's gaps are by design), so the rest is read only to find it.
    return v.chain.firstGap !== null;
  };
  try {
    // An array or other synchronous source is read without a promise per line: on the threads'
    // path the reading thread's own share is what keeps two threads from doubling one.
    // A source that is both kinds is read as it reads asynchronously, as it always was.
    if (!readsAsynchronously(lines)) {
      for (const rawLine of lines) {
        const go = take(rawLine);
        if (!(typeof go === 'boolean' ? go : await go)) break;
      }
    } else {
      for await (const rawLine of lines) if (!(await take(rawLine))) break;
    }
    if (!stopped) {
      const end = endOfExport(v.input);
      if (await judgeAll(v, end ? await examiner.examine(end) : [])) await judgeAll(v, await examiner.flush());
    }
  } finally {
    await examiner.close();
  }
  const lastLine = last !== null && last.line > v.stopLine ? last.text : null;
  return finish(v, requireTrailer, lastLine);
}

function readsAsynchronously(lines: Iterable<string> | AsyncIterable<string>): lines is AsyncIterable<string> {
  return typeof (lines as Partial<AsyncIterable<string>>)[Symbol.asyncIterator] === 'function';
}

/**
 * Judges lines in order; false at the first that stops reading (the rest were read too far).
 * Synchronous while every judgement is (the common case: a promise only when the signature
 * window is full).
 */
function judgeAll(v: Verification, judged: JudgedLine[], from = 0): boolean | Promise<boolean> {
  for (let i = from; i < judged.length; i++) {
    const go = judgeLine(v, judged[i]!);
    if (typeof go !== 'boolean') return go.then((ok) => (ok ? judgeAll(v, judged, i + 1) : false));
    if (!go) return false;
  }
  return true;
}

/** Settles the signatures still in flight, then judges what is left: the trailer, or its absence. */
async function finish(v: Verification, requireTrailer: boolean, lastLine: string | null): Promise<VerifyReport> {
  let problem = await v.signatures.drain();
  problem ??= v.lineProblem;
  const gap = gapProblem(v, problem, lastLine);
  if (gap) problem = gap;

  const done = gap ? { ...v.signatures.done, records: v.chain.firstGap!.records, lastSeq: v.chain.firstGap!.lastSeq, lastHash: v.chain.firstGap!.lastHash } : v.signatures.done;
  let trailerBody: TrailerBody | null = null;
  if (problem === null && v.trailer) {
    const result = checkTrailer(v.trailer.raw, v.keys, done, v.chain.digest.hex());
    const outOfRange = result.ok ? v.ranges.trailerProblem(result.value) : null;
    if (!result.ok) problem = { line: v.trailer.line, code: result.code, message: result.message };
    else if (outOfRange) problem = { line: v.trailer.line, code: 'retired_key', message: outOfRange };
    else trailerBody = result.value;
  }
  if (problem === null && !v.trailer && requireTrailer) {
    problem = { line: v.input.lineNo + 1, code: 'truncated', message: 'the export ends without its signed trailer: records may have been cut off' };
  }

  return {
    ok: problem === null,
    format: v.input.format ?? 'jsonl',
    ...done,
    anchor: done.records > 0 ? v.chain.anchor : null,
    trailer: trailerBody,
    annotated: v.annotated,
    formulaRows: v.formulaRows + (v.input.headerFormula ? 1 : 0),
    addedColumns: v.input.csv ? addedColumns(v.input.csv.annotations) : [],
    problems: problem ? [problem] : [],
  };
}

/**
 * A seq gap is missing records in a full export, and by design in a selection: the trailer
 * says which (`selection`), and then its count and digest prove the selection whole. The gap
 * is the problem when it comes before any other and the trailer, read, does not claim a
 * selection (a forged claim fails the trailer's signature, or the problem after the gap is
 * reported).
 */
function gapProblem(v: Verification, problem: VerifyProblem | null, lastLine: string | null): VerifyProblem | null {
  const gap = v.chain.firstGap?.problem;
  if (!gap || (problem !== null && problem.line <= gap.line)) return null;
  if (claimsSelection(v.trailer?.raw ?? trailerAtEnd(v, lastLine))) return null;
  return gap;
}

/** The trailer at the end of an export whose reading stopped early, if it has one (unchecked). */
function trailerAtEnd(v: Verification, lastLine: string | null): Record<string, unknown> | undefined {
  if (lastLine === null || v.input.format === null) return undefined;
  const text = lastLine.endsWith('\r') ? lastLine.slice(0, -1) : lastLine;
  const parsed = parseExportLine(text, v.input.format, v.input.csv);
  return parsed.kind === 'record' && parsed.raw.type === TRAILER_TYPE ? parsed.raw : undefined;
}

function claimsSelection(trailer: Record<string, unknown> | undefined): boolean {
  if (typeof trailer?.canonical !== 'string') return false;
  try {
    const body: unknown = JSON.parse(trailer.canonical);
    return typeof body === 'object' && body !== null && 'selection' in body;
  } catch {
    return false;
  }
}
