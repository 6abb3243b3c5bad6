import { verify as verifySignature, type KeyObject } from 'node:crypto';
import { GENESIS_HASH } from '@countersign/contracts';
import { exportCsvHeader } from './csv.ts';
import { parseExportLine } from './export-line.ts';
import { checkRecord, type CheckedRecord } from './record-check.ts';
import { checkTrailer, type ChainSummary } from './trailer-check.ts';
import { TRAILER_TYPE } from './trailer.ts';
import type { VerifyProblem, VerifyReport } from './verify-report.ts';

export interface VerifyOptions {
  /** A missing trailer is reported as `truncated` (default true). */
  requireTrailer?: boolean;
  /** Signatures checked in parallel on the libuv thread pool (default 256 in flight). */
  concurrency?: number;
}

type SignatureResult = { ok: true } | { ok: false; message: string };

interface PendingRecord {
  line: number;
  record: CheckedRecord;
  /** A sequence or link problem found on this line; reported only if the signature is good. */
  chainProblem: VerifyProblem | null;
  signature: Promise<SignatureResult>;
}

/**
 * Verify an export (JSONL or CSV, detected by the header) with nothing but public keys:
 * every hash, signature, sequence number and link, and the signed trailer that proves
 * nothing was cut off. Stops at the first bad record and names it.
 *
 * Ed25519 verification dominates the cost, so signatures are checked asynchronously on the
 * thread pool while the main thread parses the next lines; results are consumed in line
 * order so the reported problem is always the earliest one.
 */
export async function verifyExport(
  lines: Iterable<string> | AsyncIterable<string>,
  keys: Map<string, KeyObject>,
  opts: VerifyOptions = {},
): Promise<VerifyReport> {
  const requireTrailer = opts.requireTrailer ?? true;
  const window = Math.max(1, opts.concurrency ?? 256);
  const csvHeader = exportCsvHeader();

  let format: 'jsonl' | 'csv' | null = null;
  let lineNo = 0;
  let csvCarry: { text: string; line: number } | null = null;
  // Chain state of everything read so far (signatures possibly still pending).
  let lastSeq: number | null = null;
  let lastHash: string | null = null;
  let anchor: string | null = null;
  // What has been fully verified, signature included.
  const done: ChainSummary = { records: 0, firstSeq: null, lastSeq: null, lastHash: null };
  const pending: PendingRecord[] = [];
  let problem: VerifyProblem | null = null;
  let trailer: { raw: Record<string, unknown>; line: number } | null = null;

  // Settle the oldest pending record; false once a problem is known.
  const settleOldest = async (): Promise<boolean> => {
    const head = pending.shift();
    if (!head) return true;
    const signature = await head.signature;
    if (!signature.ok) {
      problem = { line: head.line, seq: head.record.seq, code: 'bad_signature', message: signature.message };
      return false;
    }
    if (head.chainProblem) {
      problem = head.chainProblem;
      return false;
    }
    done.records += 1;
    done.firstSeq ??= head.record.seq;
    done.lastSeq = head.record.seq;
    done.lastHash = head.record.hash;
    return true;
  };

  // A problem found synchronously on this line; earlier pending signatures may still beat it.
  let lineProblem: VerifyProblem | null = null;

  for await (const rawLine of lines) {
    lineNo += 1;
    let text = rawLine.endsWith('\r') ? rawLine.slice(0, -1) : rawLine;
    if (lineNo === 1 && text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    if (csvCarry) {
      text = `${csvCarry.text}\n${text}`;
    } else if (text.trim() === '') {
      continue;
    }
    if (format === null) {
      format = text === csvHeader ? 'csv' : 'jsonl';
      if (format === 'csv') continue;
    }
    const line: number = csvCarry?.line ?? lineNo;
    csvCarry = null;

    if (trailer) {
      lineProblem = { line, code: 'after_trailer', message: 'content after the trailer' };
      break;
    }

    const parsed = parseExportLine(text, format);
    if (parsed.kind === 'incomplete') {
      csvCarry = { text, line };
      continue;
    }
    if (parsed.kind === 'problem') {
      lineProblem = { line, code: parsed.code, message: parsed.message };
      break;
    }
    const { raw } = parsed;

    if ('type' in raw) {
      if (raw.type !== TRAILER_TYPE) {
        lineProblem = { line, code: 'invalid_record', message: `unknown line type ${JSON.stringify(raw.type)}` };
        break;
      }
      trailer = { raw, line };
      continue;
    }

    const checked = checkRecord(raw, keys, format === 'csv');
    if (!checked.ok) {
      lineProblem = { line, code: checked.code, message: checked.message, ...(checked.seq === undefined ? {} : { seq: checked.seq }) };
      break;
    }
    const record = checked.value;
    const chainProblem = checkLink(line, record, lastSeq, lastHash);
    if (lastSeq === null) anchor = record.prevHash;
    lastSeq = record.seq;
    lastHash = record.hash;
    pending.push({ line, record, chainProblem, signature: verifyAsync(record) });
    if (chainProblem) break;
    if (pending.length >= window && !(await settleOldest())) break;
  }

  while (problem === null && pending.length > 0) await settleOldest();
  if (problem === null && csvCarry) {
    lineProblem = { line: csvCarry.line, code: 'invalid_csv', message: 'unterminated quoted field (cut short?)' };
  }
  problem ??= lineProblem;

  let trailerBody = null;
  if (problem === null && trailer) {
    const result = checkTrailer(trailer.raw, keys, done);
    if (result.ok) trailerBody = result.value;
    else problem = { line: trailer.line, code: result.code, message: result.message };
  }
  if (problem === null && !trailer && requireTrailer) {
    problem = { line: lineNo + 1, code: 'truncated', message: 'the export ends without its signed trailer: records may have been cut off' };
  }

  return {
    ok: problem === null,
    format: format ?? 'jsonl',
    ...done,
    anchor: done.records > 0 ? anchor : null,
    trailer: trailerBody,
    problems: problem ? [problem] : [],
  };
}

function checkLink(line: number, record: CheckedRecord, lastSeq: number | null, lastHash: string | null): VerifyProblem | null {
  const { seq } = record;
  if (lastSeq === null) {
    // The first record of a partial export anchors on whatever precedes it; only a chain
    // that claims to start at seq 1 must start at genesis.
    if (seq === 1 && record.prevHash !== GENESIS_HASH) {
      return { line, seq, code: 'bad_genesis', message: 'seq 1 must link to the genesis hash (64 zeros)' };
    }
    return null;
  }
  if (seq !== lastSeq + 1) {
    return seq > lastSeq
      ? { line, seq, code: 'seq_gap', message: `expected seq ${lastSeq + 1}, found ${seq}: records are missing` }
      : { line, seq, code: 'seq_order', message: `expected seq ${lastSeq + 1}, found ${seq}: records are out of order or duplicated` };
  }
  if (record.prevHash !== lastHash) {
    return { line, seq, code: 'chain_broken', message: `prevHash ${record.prevHash} is not the previous record's hash ${lastHash}` };
  }
  return null;
}

function verifyAsync(record: CheckedRecord): Promise<SignatureResult> {
  return new Promise((resolve) => {
    verifySignature(null, record.bytes, record.publicKey, record.signature, (err, ok) => {
      // An error (e.g. a non-Ed25519 key given under that id) is a failed verification:
      // the record is reported as bad, never accepted.
      if (err) resolve({ ok: false, message: `signature check failed with key ${record.keyId}: ${err.message}` });
      else if (!ok) resolve({ ok: false, message: `signature does not verify with key ${record.keyId}` });
      else resolve({ ok: true });
    });
  });
}
