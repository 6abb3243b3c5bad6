import { HASH_HEX } from './body.ts';
import type { LineOutcome } from './verify-line.ts';
import type { SignatureResult } from './verify-signatures.ts';

// How a verifying thread sends a batch's outcomes back. Almost every line of a sound export is
// a record that passed all its own checks; sending each as an object costs the reading thread
// more to receive (deserialise, then collect) than judging it does. So those travel packed —
// seqs in a typed array, hash and prevHash (fixed 64 hex each) in one string, key ids as an
// index — and only the other lines as whole outcomes.

export interface PackedOutcomes {
  /**
   * Per line: 0 in `others`, otherwise 1 + flags: 1 an unsigned annotation, 2 a cell a
   * spreadsheet would run as a formula (a passed record with neither is 1).
   */
  passed: Uint8Array;
  seqs: Float64Array;
  /** hash then prevHash of each passed record, in line order, 128 characters each. */
  hashes: string;
  keyIds: string[];
  keyOf: Uint16Array;
  /** The other lines, as [index in the batch, outcome]. */
  others: Array<[number, LineOutcome]>;
}

const SIGNATURE_OK: SignatureResult = Object.freeze({ ok: true });
const ANNOTATED = 1;
const FORMULA = 2;

export function packOutcomes(outcomes: LineOutcome[]): PackedOutcomes {
  const n = outcomes.length;
  const packed: PackedOutcomes = { passed: new Uint8Array(n), seqs: new Float64Array(n), hashes: '', keyIds: [], keyOf: new Uint16Array(n), others: [] };
  const keyIndex = new Map<string, number>();
  const hashes: string[] = [];
  for (let i = 0; i < n; i++) {
    const outcome = outcomes[i]!;
    if (!isPlainPass(outcome) || (!keyIndex.has(outcome.link.keyId) && keyIndex.size === 0xffff)) {
      packed.others.push([i, outcome]);
      continue;
    }
    const { link } = outcome;
    let key = keyIndex.get(link.keyId);
    if (key === undefined) {
      key = packed.keyIds.push(link.keyId) - 1;
      keyIndex.set(link.keyId, key);
    }
    packed.passed[i] = 1 + (outcome.annotated ? ANNOTATED : 0) + (outcome.formula ? FORMULA : 0);
    packed.seqs[i] = link.seq;
    packed.keyOf[i] = key;
    hashes.push(link.hash, link.prevHash);
  }
  packed.hashes = hashes.join('');
  return packed;
}

export function unpackOutcomes(packed: PackedOutcomes): LineOutcome[] {
  const n = packed.passed.length;
  const outcomes = new Array<LineOutcome>(n);
  let at = 0;
  for (let i = 0; i < n; i++) {
    const passed = packed.passed[i]!;
    if (passed === 0) continue;
    const link = { seq: packed.seqs[i]!, hash: packed.hashes.slice(at, at + 64), prevHash: packed.hashes.slice(at + 64, at + 128), keyId: packed.keyIds[packed.keyOf[i]!]!, rotation: null };
    at += 128;
    outcomes[i] = { kind: 'record', annotated: ((passed - 1) & ANNOTATED) !== 0, formula: ((passed - 1) & FORMULA) !== 0, link, signature: SIGNATURE_OK };
  }
  for (const [i, outcome] of packed.others) outcomes[i] = outcome;
  for (let i = 0; i < n; i++) if (outcomes[i] === undefined) throw new Error(`packed outcomes lack line ${i + 1} of ${n}`);
  return outcomes;
}

/** A record whose own checks all passed and that changes nothing about keys (not a rotation). */
function isPlainPass(outcome: LineOutcome): outcome is Extract<LineOutcome, { kind: 'record' }> {
  return (
    outcome.kind === 'record' &&
    outcome.signature.ok &&
    outcome.link.rotation === null &&
    HASH_HEX.test(outcome.link.hash) &&
    HASH_HEX.test(outcome.link.prevHash)
  );
}
