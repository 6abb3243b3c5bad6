import { DomainError } from '@countersign/contracts/errors';
import { exactFields, HASH_HEX, isSeq, ISO_MS_UTC, type Checked } from './body.ts';
import { canonicalJson } from './canonical.ts';
import { signEd25519 } from './ed25519.ts';
import type { SigningKey } from './keys.ts';

export const TRAILER_TYPE = 'export.trailer';

/**
 * The last line of an export: a signed statement of how many records it holds and where
 * the chain ends. Without it, cutting records off the end of an export is undetectable.
 */
export interface ExportTrailer {
  type: typeof TRAILER_TYPE;
  canonical: string;
  /** base64 Ed25519 signature over the UTF-8 bytes of `canonical`. */
  signature: string;
  keyId: string;
}

export interface TrailerBody {
  v: 1;
  type: typeof TRAILER_TYPE;
  records: number;
  /** null when the export holds no records. */
  firstSeq: number | null;
  lastSeq: number | null;
  lastHash: string | null;
  /** The export's requested time range, null when open-ended. */
  from: string | null;
  to: string | null;
  exportedAt: string;
  keyId: string;
  /**
   * Present only when the export is a selection (filtered by action): its seq numbers then
   * have gaps by design, and `records` with `selection.digest` are what prove that nothing was
   * removed from or added to it. Absent: the export is the whole chain in [from, to), gapless.
   */
  selection?: ExportSelection;
}

/** What a selection export holds: the filter that chose it and a digest of its records. */
export interface ExportSelection {
  /** The filter as query parameters (GET /v1/actions names), e.g. `{ resource: 'env/prod-' }`. */
  filter: Record<string, string>;
  /** SelectionDigest of the included records' hashes, in export order. */
  digest: string;
}

export interface TrailerInput {
  records: number;
  firstSeq: number | null;
  lastSeq: number | null;
  lastHash: string | null;
  from: Date | string | null;
  to: Date | string | null;
  exportedAt: Date;
  key: SigningKey;
  selection?: ExportSelection;
}

export function sealTrailer(input: TrailerInput): ExportTrailer {
  const body: TrailerBody = {
    v: 1,
    type: TRAILER_TYPE,
    records: input.records,
    firstSeq: input.firstSeq,
    lastSeq: input.lastSeq,
    lastHash: input.lastHash,
    from: isoOrNull(input.from),
    to: isoOrNull(input.to),
    exportedAt: input.exportedAt.toISOString(),
    keyId: input.key.keyId,
    ...(input.selection ? { selection: input.selection } : {}),
  };
  const checked = checkTrailerBody(body);
  if (!checked.ok) throw new DomainError('internal', `cannot seal export trailer: ${checked.message}`);
  const canonical = canonicalJson(body);
  const signature = signEd25519(Buffer.from(canonical, 'utf8'), input.key.privateKey).toString('base64');
  return { type: TRAILER_TYPE, canonical, signature, keyId: input.key.keyId };
}

const TRAILER_KEYS = ['exportedAt', 'firstSeq', 'from', 'keyId', 'lastHash', 'lastSeq', 'records', 'to', 'type', 'v'];
const SELECTION_TRAILER_KEYS = [...TRAILER_KEYS, 'selection'].sort();
const SELECTION_KEYS = ['digest', 'filter'];

export function checkTrailerBody(value: unknown): Checked<TrailerBody> {
  const isSelection = typeof value === 'object' && value !== null && 'selection' in value;
  const fields = exactFields(value, isSelection ? SELECTION_TRAILER_KEYS : TRAILER_KEYS, 'trailer body');
  if (!fields.ok) return fields;
  const body = fields.value;
  if (body.v !== 1 || body.type !== TRAILER_TYPE) return fail('unsupported trailer version or type');
  if (typeof body.records !== 'number' || !Number.isSafeInteger(body.records) || body.records < 0) {
    return fail('records must be a non-negative integer');
  }
  const empty = body.records === 0;
  if (empty ? body.firstSeq !== null || body.lastSeq !== null || body.lastHash !== null : !isSeq(body.firstSeq) || !isSeq(body.lastSeq) || typeof body.lastHash !== 'string' || !HASH_HEX.test(body.lastHash)) {
    return fail('firstSeq, lastSeq and lastHash must be set when there are records and null when there are none');
  }
  for (const field of ['from', 'to'] as const) {
    const v = body[field];
    if (v !== null && (typeof v !== 'string' || Number.isNaN(Date.parse(v)))) return fail(`${field} must be a timestamp or null`);
  }
  if (typeof body.exportedAt !== 'string' || !ISO_MS_UTC.test(body.exportedAt)) return fail('exportedAt must be an ISO-8601 UTC timestamp');
  if (typeof body.keyId !== 'string' || body.keyId === '') return fail('keyId must be a non-empty string');
  if (isSelection) {
    const selection = checkSelection(body.selection);
    if (!selection.ok) return selection;
  }
  return { ok: true, value: body as unknown as TrailerBody };
}

function checkSelection(value: unknown): Checked<ExportSelection> {
  const fields = exactFields(value, SELECTION_KEYS, 'trailer selection');
  if (!fields.ok) return fields;
  const { digest, filter } = fields.value;
  if (typeof digest !== 'string' || !HASH_HEX.test(digest)) return fail('selection.digest must be 64 lowercase hex');
  if (typeof filter !== 'object' || filter === null || Array.isArray(filter) || Object.values(filter).some((v) => typeof v !== 'string')) {
    return fail('selection.filter must be an object of strings');
  }
  return { ok: true, value: fields.value as unknown as ExportSelection };
}

function isoOrNull(value: Date | string | null): string | null {
  if (value === null) return null;
  return typeof value === 'string' ? value : value.toISOString();
}

function fail(message: string): { ok: false; message: string } {
  return { ok: false, message };
}
