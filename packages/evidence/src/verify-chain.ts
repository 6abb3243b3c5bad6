import { GENESIS_HASH } from '@countersign/contracts';
import type { CheckedRecord } from './record-check.ts';
import type { VerifyProblem } from './verify-report.ts';

/** The chain as read so far (signatures possibly still being checked). */
export interface ChainState {
  lastSeq: number | null;
  lastHash: string | null;
  /** The prevHash of the first record: what a partial export hangs from. */
  anchor: string | null;
}

export function newChainState(): ChainState {
  return { lastSeq: null, lastHash: null, anchor: null };
}

/** Appends a record to the chain read so far; returns its sequence or link problem, if any. */
export function linkRecord(chain: ChainState, line: number, record: CheckedRecord): VerifyProblem | null {
  const problem = checkLink(line, record, chain.lastSeq, chain.lastHash);
  if (chain.lastSeq === null) chain.anchor = record.prevHash;
  chain.lastSeq = record.seq;
  chain.lastHash = record.hash;
  return problem;
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
