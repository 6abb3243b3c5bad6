import type { KeyObject } from 'node:crypto';
import { KeyRanges } from './key-ranges.ts';
import type { KeyRetirement } from './key-retirement.ts';
import { linkRecord, newChainState, type ChainState } from './verify-chain.ts';
import { newExportInput, type ExportInput, type ReadLine } from './verify-input.ts';
import type { LineOutcome } from './verify-line.ts';
import type { VerifyProblem } from './verify-report.ts';
import { SignatureQueue, type SignatureResult } from './verify-signatures.ts';

// The part of verification that must run in export order, on one thread: content after the
// trailer, each key's range (rotations read so far narrow it), seq and prevHash against the
// record before, and which problem comes first. It takes lines already examined on their own
// (verify-line.ts), wherever that happened, and gives the same verdict for the same lines.

/** A line read and examined, or what reading alone found. */
export type JudgedLine =
  | { kind: 'examined'; line: number; endLine: number; outcome: LineOutcome<SignatureResult | Promise<SignatureResult>> }
  | Exclude<ReadLine, { kind: 'text' }>;

/** Everything one verification run has learnt so far. */
export interface Verification {
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
  formulaRows: number;
  /** The physical line at which reading stops if the line being judged stops it. */
  stopLine: number;
}

/** Signatures left pending while reading goes on, unless the caller says (`concurrency`). */
export const DEFAULT_SIGNATURE_WINDOW = 256;

/**
 * Most signatures left pending while reading goes on. More buys nothing (the libuv pool has a
 * handful of threads), and the pending records are held in memory and settled from the front
 * of an array: asked for 1e9, a large export's every record was held and each settle copied
 * the rest, which stalled the event loop for minutes.
 */
export const MAX_SIGNATURE_WINDOW = 4096;

/** The caller's `concurrency` as a window: a whole number from 1 to MAX_SIGNATURE_WINDOW; anything else (NaN, ±Infinity) the default. */
export function signatureWindow(asked: number): number {
  if (!Number.isFinite(asked)) return asked === Infinity ? MAX_SIGNATURE_WINDOW : DEFAULT_SIGNATURE_WINDOW;
  return Math.min(MAX_SIGNATURE_WINDOW, Math.max(1, Math.floor(asked)));
}

export function newVerification(keys: Map<string, KeyObject>, retired: ReadonlyMap<string, KeyRetirement> | undefined, window: number): Verification {
  return {
    keys,
    ranges: new KeyRanges(retired),
    input: newExportInput(),
    chain: newChainState(),
    signatures: new SignatureQueue(signatureWindow(window)),
    trailer: null,
    lineProblem: null,
    annotated: 0,
    formulaRows: 0,
    stopLine: 0,
  };
}

/** Judges the next line in export order; false once reading must stop (at `v.stopLine`). */
export function judgeLine(v: Verification, judged: JudgedLine): boolean | Promise<boolean> {
  switch (judged.kind) {
    case 'problem':
      v.stopLine = judged.problem.line;
      // A row opened after the trailer is content after it, however it ends.
      if (v.trailer) return stop(v, { line: judged.problem.line, code: 'after_trailer', message: 'content after the trailer' });
      return stop(v, judged.problem);
    case 'unterminated':
      // A row opened after the trailer is content after it, from its first line.
      v.stopLine = v.trailer ? judged.line : Number.POSITIVE_INFINITY;
      if (v.trailer) return stop(v, { line: judged.line, code: 'after_trailer', message: 'content after the trailer' });
      return stop(v, { line: judged.line, code: 'invalid_csv', message: 'unterminated quoted field (cut short?)' });
    case 'examined':
      return judgeExamined(v, judged.line, judged.endLine, judged.outcome);
  }
}

function judgeExamined(v: Verification, line: number, endLine: number, outcome: LineOutcome<SignatureResult | Promise<SignatureResult>>): boolean | Promise<boolean> {
  if (v.trailer) {
    v.stopLine = line;
    return stop(v, { line, code: 'after_trailer', message: 'content after the trailer' });
  }
  v.stopLine = endLine;
  switch (outcome.kind) {
    case 'problem':
      return stop(v, { line, code: outcome.code, message: outcome.message });
    case 'trailer':
      v.trailer = { raw: outcome.raw, line };
      return true;
    case 'bad-record':
      if (outcome.annotated) v.annotated += 1;
      return stop(v, { line, code: outcome.code, message: outcome.message, ...(outcome.seq === undefined ? {} : { seq: outcome.seq }) });
    case 'record': {
      if (outcome.annotated) v.annotated += 1;
      if (outcome.formula) v.formulaRows += 1;
      const { link } = outcome;
      const outOfRange = v.ranges.recordProblem(link.keyId, link.seq);
      if (outOfRange) return stop(v, { line, seq: link.seq, code: 'retired_key', message: outOfRange });
      // A rotation read here constrains every later line; if its own signature turns out bad,
      // that earlier problem is the one reported.
      const badRotation = link.rotation ? v.ranges.noteRotation(link.rotation) : null;
      if (badRotation) return stop(v, { line, seq: link.seq, code: 'bad_rotation', message: badRotation });
      const chainProblem = linkRecord(v.chain, line, link);
      return v.signatures.add(line, link, chainProblem, outcome.signature);
    }
  }
}

function stop(v: Verification, problem: VerifyProblem): false {
  v.lineProblem = problem;
  return false;
}
