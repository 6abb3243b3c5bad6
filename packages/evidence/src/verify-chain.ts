import { GENESIS_HASH } from '@countersign/contracts';
import { SelectionDigest } from './selection-digest.ts';
import type { VerifyProblem } from './verify-report.ts';

/** What linking needs of a record. */
export interface ChainedRecord {
  seq: number;
  hash: string;
  prevHash: string;
}

/** The chain as read so far (signatures possibly still being checked). */
export interface ChainState {
  lastSeq: number | null;
  lastHash: string | null;
  /** The prevHash of the first record: what a partial export hangs from. */
  anchor: string | null;
  /** Records linked so far. */
  records: number;
  /** Their hashes in order, as a selection's trailer signs them. */
  digest: SelectionDigest;
  /**
   * The first place seq skipped ahead, and the chain just before it. Only the trailer says
   * whether that is missing records (a full export) or a selection's gap by design, so reading
   * goes on and the verdict waits for the trailer.
   */
  firstGap: { problem: VerifyProblem; records: number; lastSeq: number | null; lastHash: string | null } | null;
}

export function newChainState(): ChainState {
  return { lastSeq: null, lastHash: null, anchor: null, records: 0, digest: new SelectionDigest(), firstGap: null };
}

/**
 * Appends a record to the chain read so far; returns its sequence or link problem, if any. A
 * gap is not returned but kept in `firstGap`; across it, the link cannot be checked (the
 * record it hangs from is not in the export).
 */
export function linkRecord(chain: ChainState, line: number, record: ChainedRecord): VerifyProblem | null {
  const problem = checkLink(line, record, chain.lastSeq, chain.lastHash);
  if (problem?.code === 'seq_gap') chain.firstGap ??= { problem, records: chain.records, lastSeq: chain.lastSeq, lastHash: chain.lastHash };
  if (chain.lastSeq === null) chain.anchor = record.prevHash;
  chain.lastSeq = record.seq;
  chain.lastHash = record.hash;
  chain.records += 1;
  chain.digest.add(record.hash);
  return problem?.code === 'seq_gap' ? null : problem;
}

function checkLink(line: number, record: ChainedRecord, lastSeq: number | null, lastHash: string | null): VerifyProblem | null {
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
