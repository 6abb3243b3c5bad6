import { createHash, type Hash } from 'node:crypto';

/**
 * What a selection's trailer signs over its records: sha256 of their `hash` fields (64
 * lowercase hex each) concatenated in export order, with no separator. Each hash has a fixed
 * length, so the concatenation is unambiguous; a third party recomputes it with
 * `jq -j 'select(.hash) | .hash' export.jsonl | sha256sum`. With the record count it makes
 * any record removed from, added to or swapped inside a selection detectable, though the
 * selection's seq numbers have gaps by design.
 */
export class SelectionDigest {
  private readonly hash: Hash = createHash('sha256');

  add(recordHash: string): void {
    this.hash.update(recordHash, 'utf8');
  }

  /** The digest so far (the running hash is copied, so adding may go on). */
  hex(): string {
    return this.hash.copy().digest('hex');
  }
}
