import { verify as verifySignature } from 'node:crypto';
import type { CheckedRecord } from './record-check.ts';
import type { ChainSummary } from './trailer-check.ts';
import type { VerifyProblem } from './verify-report.ts';

export type SignatureResult = { ok: true } | { ok: false; message: string };

interface PendingRecord {
  line: number;
  record: { seq: number; hash: string };
  /** A sequence or link problem found on this line; reported only if the signature is good. */
  chainProblem: VerifyProblem | null;
  signature: SignatureResult | Promise<SignatureResult>;
}

/**
 * Ed25519 verification dominates the cost of verifying, so signatures are checked elsewhere
 * (the libuv thread pool, or verifying threads) while the caller reads the next lines. Results
 * are settled in line order, so the problem reported is always the earliest one.
 *
 * How far reading runs ahead of settling (`window`) is fixed, never a matter of timing: the
 * queue settles its oldest record exactly when it holds `window` of them, whether that
 * record's signature is already known or not. So what was read when verification stopped,
 * and the report, are the same however and wherever signatures are checked.
 */
export class SignatureQueue {
  /** What has been fully verified, signature included. */
  readonly done: ChainSummary = { records: 0, firstSeq: null, lastSeq: null, lastHash: null };
  /** The first problem a settled record had; nothing is settled after it. */
  problem: VerifyProblem | null = null;
  private readonly pending: PendingRecord[] = [];

  constructor(private readonly window: number) {}

  /** Queues a record and its signature check; false once the caller must stop reading. */
  add(
    line: number,
    record: { seq: number; hash: string },
    chainProblem: VerifyProblem | null,
    signature: SignatureResult | Promise<SignatureResult>,
  ): boolean | Promise<boolean> {
    this.pending.push({ line, record, chainProblem, signature });
    if (chainProblem) return false;
    if (this.pending.length < this.window) return true;
    return this.settleOldest();
  }

  /** Settles every record still pending, stopping at the first problem; returns it. */
  async drain(): Promise<VerifyProblem | null> {
    while (this.problem === null && this.pending.length > 0) await this.settleOldest();
    return this.problem;
  }

  // Settle the oldest pending record; false once a problem is known.
  private async settleOldest(): Promise<boolean> {
    const head = this.pending.shift();
    if (!head) return true;
    const signature = await head.signature;
    if (!signature.ok) {
      this.problem = { line: head.line, seq: head.record.seq, code: 'bad_signature', message: signature.message };
      return false;
    }
    if (head.chainProblem) {
      this.problem = head.chainProblem;
      return false;
    }
    this.done.records += 1;
    this.done.firstSeq ??= head.record.seq;
    this.done.lastSeq = head.record.seq;
    this.done.lastHash = head.record.hash;
    return true;
  }
}

/** The signature checked on the libuv thread pool, so this thread can go on reading. */
export function verifySignatureLater(record: CheckedRecord): Promise<SignatureResult> {
  return new Promise((resolve) => {
    verifySignature(null, record.bytes, record.publicKey, record.signature, (err, ok) => {
      resolve(signatureResult(record, err, ok));
    });
  });
}

/** The signature checked on this thread (a verifying thread has nothing else to do meanwhile). */
export function verifySignatureNow(record: CheckedRecord): SignatureResult {
  let ok: boolean;
  try {
    ok = verifySignature(null, record.bytes, record.publicKey, record.signature);
  } catch (err) {
    return signatureResult(record, err as Error, false);
  }
  return signatureResult(record, null, ok);
}

function signatureResult(record: CheckedRecord, err: Error | null, ok: boolean): SignatureResult {
  // An error (e.g. a non-Ed25519 key given under that id) is a failed verification: the record
  // is reported as bad, never accepted.
  if (err) return { ok: false, message: `signature check failed with key ${record.keyId}: ${err.message}` };
  if (!ok) return { ok: false, message: `signature does not verify with key ${record.keyId}` };
  return { ok: true };
}
