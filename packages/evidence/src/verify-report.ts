import type { TrailerBody } from './trailer.ts';

export type VerifyProblemCode =
  /** The line is not JSON, or not a JSON object. */
  | 'invalid_json'
  /** The CSV row is malformed (quoting, field count). */
  | 'invalid_csv'
  /** The line's outer fields are missing, extra or of the wrong type. */
  | 'invalid_record'
  /** `canonical` is not RFC 8785 canonical JSON (it was re-serialised or edited). */
  | 'not_canonical'
  /** `hash` is not sha256(canonical). */
  | 'hash_mismatch'
  /** The signed body is not a valid ArtifactBody / ArtifactEvent. */
  | 'invalid_body'
  /** An outer field (seq, kind, actionId, at, keyId, prevHash) disagrees with the signed body. */
  | 'field_mismatch'
  /** No public key was given for the record's (or trailer's) keyId. */
  | 'unknown_key'
  /** The Ed25519 signature does not verify. */
  | 'bad_signature'
  /** Signed by a key after its range ended (a rotation retired it): a retired key never signs. */
  | 'retired_key'
  /** A `signing-key.rotated` record contradicts itself (wrong signer, wrong last seq). */
  | 'bad_rotation'
  /** seq skips ahead: records are missing. */
  | 'seq_gap'
  /** seq goes backwards or repeats: records were reordered or duplicated. */
  | 'seq_order'
  /** prevHash is not the previous record's hash. */
  | 'chain_broken'
  /** The record with seq 1 does not link to the genesis hash. */
  | 'bad_genesis'
  /** The trailer line is malformed. */
  | 'trailer_invalid'
  /** The trailer's signature does not verify. */
  | 'trailer_bad_signature'
  /** The trailer's record count / seq range / last hash differ from what was read. */
  | 'trailer_mismatch'
  /** Something follows the trailer. */
  | 'after_trailer'
  /** The export ends without a trailer: it was cut short. */
  | 'truncated';

export interface VerifyProblem {
  /** 1-based physical line number in the export (the CSV header is line 1). */
  line: number;
  seq?: number;
  code: VerifyProblemCode;
  message: string;
}

export interface VerifyReport {
  ok: boolean;
  format: 'jsonl' | 'csv';
  /** Records verified before the first problem (all of them when ok). */
  records: number;
  firstSeq: number | null;
  lastSeq: number | null;
  lastHash: string | null;
  /**
   * prevHash of the first record. GENESIS_HASH for a full export; for a partial export it
   * is the hash of the record just before, to be matched against an earlier export.
   */
  anchor: string | null;
  /** The verified trailer body, when there is one and it checked out. */
  trailer: TrailerBody | null;
  /**
   * Records that carried an unsigned annotation (a JSONL `subject`, CSV annotation columns such
   * as resource, summary, params): set aside and not checked. Nothing signed covers them.
   */
  annotated: number;
  /**
   * CSV rows with a shown cell (signed-body or annotation column) that a spreadsheet would run
   * as a formula: written without the apostrophe the export puts before such a value, so the
   * file was edited or made before that. The header counts as a row when a column's name would
   * run (the export's own names never do). The records may still verify; the file is not safe
   * to open in a spreadsheet as it is. 0 for JSONL.
   */
  formulaRows: number;
  /**
   * CSV header columns the export does not write (added in a spreadsheet, say), in header
   * order: no signature covers them and verify ignores their cells, whatever their names
   * suggest. Empty for JSONL.
   */
  addedColumns: string[];
  /** Empty when ok; otherwise the first problem (verification stops there). */
  problems: VerifyProblem[];
}
