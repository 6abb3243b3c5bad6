import type { KeyObject } from 'node:crypto';
import { parseExportLine } from './export-line.ts';
import { KeyRanges } from './key-ranges.ts';
import type { KeyRetirement } from './key-retirement.ts';
import type { SignedColumns } from './csv.ts';
import { checkRecord } from './record-check.ts';
import { checkTrailer } from './trailer-check.ts';
import { TRAILER_TYPE, type TrailerBody } from './trailer.ts';
import { linkRecord, newChainState, type ChainState } from './verify-chain.ts';
import { carryLine, newExportInput, readLine, type ExportInput } from './verify-input.ts';
import type { VerifyProblem, VerifyReport } from './verify-report.ts';
import { SignatureQueue } from './verify-signatures.ts';

export interface VerifyOptions {
  /** A missing trailer is reported as `truncated` (default true). */
  requireTrailer?: boolean;
  /** Signatures checked in parallel on the libuv thread pool (default 256 in flight). */
  concurrency?: number;
  /**
   * Retired keys' ranges known up front (`retirementsFromJwks` of the service's JWKS). Ranges
   * are also learnt from the export's own `signing-key.rotated` records; a record, or the
   * trailer, signed by a key after its range is refused.
   */
  retired?: ReadonlyMap<string, KeyRetirement>;
}

/** Everything one verification run has learnt so far. */
interface Verification {
  keys: Map<string, KeyObject>;
  ranges: KeyRanges;
  input: ExportInput;
  chain: ChainState;
  signatures: SignatureQueue;
  trailer: { raw: Record<string, unknown>; line: number } | null;
  /** A problem found while reading a line; signatures of earlier lines may still beat it. */
  lineProblem: VerifyProblem | null;
  /** Records that carried an unsigned annotation (set aside, never checked). */
  annotated: number;
  /** The last line, when reading stopped early after a seq gap (the trailer, if any). */
  lastLine: string | null;
}

/**
 * Verify an export (JSONL or CSV, detected by the header) with nothing but public keys:
 * every hash, signature, sequence number and link, and the signed trailer that proves
 * nothing was cut off. Stops at the first bad record and names it.
 */
export async function verifyExport(
  lines: Iterable<string> | AsyncIterable<string>,
  keys: Map<string, KeyObject>,
  opts: VerifyOptions = {},
): Promise<VerifyReport> {
  const v: Verification = {
    keys,
    ranges: new KeyRanges(opts.retired),
    input: newExportInput(),
    chain: newChainState(),
    signatures: new SignatureQueue(Math.max(1, opts.concurrency ?? 256)),
    trailer: null,
    lineProblem: null,
    annotated: 0,
    lastLine: null,
  };
  let checking = true;
  for await (const rawLine of lines) {
    if (checking) {
      if (await checkLine(v, rawLine)) continue;
      // Stopped at a problem after a seq gap: whether the gap is one too depends on the
      // trailer (a selection's gaps are by design), so the rest is read only to find it.
      if (!v.chain.firstGap) break;
      checking = false;
    } else if (rawLine.trim() !== '') {
      v.lastLine = rawLine;
    }
  }
  return finish(v, opts.requireTrailer ?? true);
}

/** One physical line; false once reading must stop. */
async function checkLine(v: Verification, rawLine: string): Promise<boolean> {
  const next = readLine(v.input, rawLine);
  if (!next) return true;
  if ('problem' in next) return stop(v, next.problem);
  const { line, text, format } = next;
  if (v.trailer) return stop(v, { line, code: 'after_trailer', message: 'content after the trailer' });

  const parsed = parseExportLine(text, format, v.input.csv);
  if (parsed.kind === 'incomplete') {
    carryLine(v.input, text, line);
    return true;
  }
  if (parsed.kind === 'problem') return stop(v, { line, code: parsed.code, message: parsed.message });
  const { raw, signed } = parsed;
  if (parsed.annotated) v.annotated += 1;
  if ('type' in raw) {
    if (raw.type !== TRAILER_TYPE) return stop(v, { line, code: 'invalid_record', message: `unknown line type ${JSON.stringify(raw.type)}` });
    v.trailer = { raw, line };
    return true;
  }
  return checkRecordLine(v, raw, line, format, signed);
}

/**
 * A record line: its own fields and hash now, its key's range, its link to the chain, its
 * signature in the background.
 */
function checkRecordLine(
  v: Verification,
  raw: Record<string, unknown>,
  line: number,
  format: 'jsonl' | 'csv',
  signed: Partial<SignedColumns>,
): Promise<boolean> | false {
  const checked = checkRecord(raw, v.keys, format === 'csv', signed);
  if (!checked.ok) {
    return stop(v, { line, code: checked.code, message: checked.message, ...(checked.seq === undefined ? {} : { seq: checked.seq }) });
  }
  const { seq, keyId, body } = checked.value;
  const outOfRange = v.ranges.recordProblem(keyId, seq);
  if (outOfRange) return stop(v, { line, seq, code: 'retired_key', message: outOfRange });
  // A rotation read here constrains every later line; if its own signature turns out bad,
  // that earlier problem is the one reported.
  const badRotation = v.ranges.noteRotation(body);
  if (badRotation) return stop(v, { line, seq, code: 'bad_rotation', message: badRotation });
  const chainProblem = linkRecord(v.chain, line, checked.value);
  return v.signatures.add(line, checked.value, chainProblem);
}

function stop(v: Verification, problem: VerifyProblem): false {
  v.lineProblem = problem;
  return false;
}

/** Settles the signatures still in flight, then judges what is left: a cut CSV row, the trailer, or its absence. */
async function finish(v: Verification, requireTrailer: boolean): Promise<VerifyReport> {
  let problem = await v.signatures.drain();
  if (problem === null && v.input.carry) {
    v.lineProblem = { line: v.input.carry.line, code: 'invalid_csv', message: 'unterminated quoted field (cut short?)' };
  }
  problem ??= v.lineProblem;
  const gap = gapProblem(v, problem);
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
function gapProblem(v: Verification, problem: VerifyProblem | null): VerifyProblem | null {
  const gap = v.chain.firstGap?.problem;
  if (!gap || (problem !== null && problem.line <= gap.line)) return null;
  if (claimsSelection(v.trailer?.raw ?? trailerAtEnd(v))) return null;
  return gap;
}

/** The trailer at the end of an export whose reading stopped early, if it has one (unchecked). */
function trailerAtEnd(v: Verification): Record<string, unknown> | undefined {
  if (v.lastLine === null || v.input.format === null) return undefined;
  const text = v.lastLine.endsWith('\r') ? v.lastLine.slice(0, -1) : v.lastLine;
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
