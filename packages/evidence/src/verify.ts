import type { KeyObject } from 'node:crypto';
import type { KeyRetirement } from './key-retirement.ts';
import type { CheckedRecord } from './record-check.ts';
import type { ReadLine } from './verify-input.ts';
import { DEFAULT_SIGNATURE_WINDOW, newVerification, type JudgedLine } from './verify-judge.ts';
import { examineLine } from './verify-line.ts';
import type { VerifyReport } from './verify-report.ts';
import { runVerification, type LineExaminer } from './verify-run.ts';
import { verifySignatureLater, verifySignatureNow, type SignatureResult } from './verify-signatures.ts';

export interface VerifyOptions {
  /** A missing trailer is reported as `truncated` (default true). */
  requireTrailer?: boolean;
  /**
   * How many records' signatures may be pending while reading goes on (default 256, at most
   * 4096): checked in parallel on the libuv thread pool by `verifyExport`.
   */
  concurrency?: number;
  /**
   * Retired keys' ranges known up front (`retirementsFromJwks` of the service's JWKS). Ranges
   * are also learnt from the export's own `signing-key.rotated` records; a record, or the
   * trailer, signed by a key after its range is refused.
   */
  retired?: ReadonlyMap<string, KeyRetirement>;
}

export { DEFAULT_SIGNATURE_WINDOW } from './verify-judge.ts';

/**
 * Verify an export (JSONL or CSV, detected by the header) with nothing but public keys:
 * every hash, signature, sequence number and link, and the signed trailer that proves
 * nothing was cut off. Stops at the first bad record and names it.
 *
 * Lines are checked on the calling thread, signatures on the libuv pool; for large exports
 * `verifyExportParallel` spreads the per-line work over worker threads, same report.
 */
export async function verifyExport(
  lines: Iterable<string> | AsyncIterable<string>,
  keys: Map<string, KeyObject>,
  opts: VerifyOptions = {},
): Promise<VerifyReport> {
  const v = newVerification(keys, opts.retired, opts.concurrency ?? DEFAULT_SIGNATURE_WINDOW);
  return runVerification(lines, v, examinerHere(keys, verifySignatureLater), opts.requireTrailer ?? true);
}

/**
 * `verifyExport` with everything on the calling thread, signatures included: the same report,
 * on one core. What the other ways of verifying are measured against (bench/verify.bench.ts).
 */
export async function verifyExportOnOneThread(
  lines: Iterable<string> | AsyncIterable<string>,
  keys: Map<string, KeyObject>,
  opts: VerifyOptions = {},
): Promise<VerifyReport> {
  const v = newVerification(keys, opts.retired, opts.concurrency ?? DEFAULT_SIGNATURE_WINDOW);
  return runVerification(lines, v, examinerHere(keys, verifySignatureNow), opts.requireTrailer ?? true);
}

/** Examines each line as it is read, on this thread; `verify` checks a record's signature. */
export function examinerHere(
  keys: Map<string, KeyObject>,
  verify: (record: CheckedRecord) => SignatureResult | Promise<SignatureResult>,
): LineExaminer {
  return {
    examine: (read) => [examineHere(read, keys, verify)],
    flush: () => [],
    close: async () => undefined,
  };
}

function examineHere(read: ReadLine, keys: Map<string, KeyObject>, verify: (record: CheckedRecord) => SignatureResult | Promise<SignatureResult>): JudgedLine {
  if (read.kind !== 'text') return read;
  return { kind: 'examined', line: read.line, endLine: read.endLine, outcome: examineLine(read.text, read.format, read.csv, keys, verify) };
}
