import { generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { GENESIS_HASH, type ArtifactEvent, type SealedArtifact } from '@countersign/contracts';
import {
  exportCsvHeader,
  generateSigningKey,
  recordToCsvRow,
  sealArtifact,
  sealTrailer,
  canonicalJson,
  SelectionDigest,
  sha256Hex,
  trailerToCsvRow,
  type ExportTrailer,
  type KeyRetirement,
  type SigningKey,
  type VerifyOptions,
} from '../src/index.ts';
import { eventAt, jsonlLines, sealChain } from './factories.ts';

// Good and tampered exports, for comparing verifiers line for line: every case is a whole
// export plus the keys (and options) to verify it with. Problems sit in the middle, at the ends
// and around multiples of small batch sizes, where a verifier that splits the work could slip.

export interface ExportCase {
  name: string;
  lines: string[];
  keys: Map<string, KeyObject>;
  opts?: VerifyOptions;
}

const START = Date.parse('2025-03-01T09:00:00.000Z');
const atSecond = (i: number): Date => new Date(START + i * 1000);

/** Apply an edit to the parsed JSON of line `n` (1-based). */
function editLine(lines: string[], n: number, edit: (rec: Record<string, unknown>) => void): string[] {
  const out = [...lines];
  const rec = JSON.parse(out[n - 1]!) as Record<string, unknown>;
  edit(rec);
  out[n - 1] = JSON.stringify(rec);
  return out;
}

/**
 * Re-seals a record after `edit` changed its signed body: canonical, hash and signature all
 * valid (the signer's own key), so only the body's content can be wrong (what sealArtifact
 * refuses to seal, e.g. an event the schema does not allow).
 */
function resealBody(key: SigningKey, edit: (body: { event: Record<string, unknown> }) => void): (rec: Record<string, unknown>) => void {
  return (rec) => {
    const body = JSON.parse(String(rec.canonical)) as { event: Record<string, unknown> };
    edit(body);
    const canonical = canonicalJson(body);
    rec.canonical = canonical;
    rec.hash = sha256Hex(canonical);
    rec.signature = sign(null, Buffer.from(canonical, 'utf8'), key.privateKey).toString('base64');
  };
}

function flipSignature(rec: Record<string, unknown>): void {
  const sig = Buffer.from(String(rec.signature), 'base64');
  sig[7]! ^= 0x40;
  rec.signature = sig.toString('base64');
}

/** old key up to `rotateAfter`, the rotation (new key), then the new key; `forge` picks another signer. */
function rotatedChain(oldKey: SigningKey, newKey: SigningKey, total: number, rotateAfter: number, forge?: (seq: number) => SigningKey | undefined): SealedArtifact[] {
  const artifacts: SealedArtifact[] = [];
  let prevHash = GENESIS_HASH;
  for (let seq = 1; seq <= total; seq++) {
    let event: ArtifactEvent = eventAt(seq);
    if (seq === rotateAfter + 1) event = { kind: 'signing-key.rotated', previousKeyId: oldKey.keyId, newKeyId: newKey.keyId, previousKeyLastSeq: rotateAfter };
    const key = forge?.(seq) ?? (seq <= rotateAfter ? oldKey : newKey);
    const a = sealArtifact({ seq, prevHash, at: atSecond(seq), event, key });
    artifacts.push(a);
    prevHash = a.hash;
  }
  return artifacts;
}

function trailerOf(records: SealedArtifact[], key: SigningKey, opts: { exportedAt?: Date; selection?: Record<string, string> } = {}): ExportTrailer {
  const last = records.at(-1);
  let selection: { filter: Record<string, string>; digest: string } | undefined;
  if (opts.selection) {
    const digest = new SelectionDigest();
    for (const r of records) digest.add(r.hash);
    selection = { filter: opts.selection, digest: digest.hex() };
  }
  return sealTrailer({
    records: records.length,
    firstSeq: records[0]?.seq ?? null,
    lastSeq: last?.seq ?? null,
    lastHash: last?.hash ?? null,
    from: null,
    to: null,
    exportedAt: opts.exportedAt ?? atSecond(records.length + 100),
    key,
    ...(selection ? { selection } : {}),
  });
}

const jsonl = (records: SealedArtifact[], trailer: ExportTrailer): string[] => [...records.map((a) => JSON.stringify(a)), JSON.stringify(trailer)];

/**
 * The cases. `n` records in the main chain (at least 200); problems are placed relative to it.
 * Sealing is the slow part, so the chains are built once per call.
 */
export function exportCases(n = 300): ExportCase[] {
  const key = generateSigningKey();
  const other = generateSigningKey();
  const keys = new Map([[key.keyId, key.publicKey]]);
  const both = new Map([key, other].map((k) => [k.keyId, k.publicKey]));
  const chain = sealChain(n, key);
  const good = jsonlLines(chain);
  const mid = Math.floor(n / 2);
  const cases: ExportCase[] = [];
  const add = (name: string, lines: string[], k: Map<string, KeyObject> = keys, opts?: VerifyOptions) => cases.push({ name, lines, keys: k, ...(opts ? { opts } : {}) });

  // Good exports.
  add('good chain', good);
  add('good chain, CRLF and blank lines after the trailer', [...good.map((l) => `${l}\r`), '', '  ']);
  add('good partial export anchored on an earlier record', jsonlLines(sealChain(40, key, { firstSeq: 1001, anchor: sha256Hex('record 1000') })));
  add('good empty export with its trailer', jsonlLines(sealChain(0, key)));
  add('empty input', []);
  add('good chain without trailer, trailer not required', good.slice(0, n), keys, { requireTrailer: false });
  const annotated = chain.artifacts.map((a) => (a.actionId ? JSON.stringify({ ...a, subject: { type: 'payment.send', resource: `acct/${a.actionId}`, summary: 'Pay "now"', params: { n: a.seq } } }) : JSON.stringify(a)));
  add('good annotated chain', [...annotated, JSON.stringify(chain.trailer)]);

  // CSV, with an annotation whose newline splits rows over two physical lines.
  const subject = (a: SealedArtifact) => (a.seq % 3 === 0 ? { type: 'payment.send', resource: `acct/${a.seq}`, summary: `two\nlines, "quoted"`, params: { n: a.seq } } : null);
  const csvLines = [exportCsvHeader(), ...chain.artifacts.map((a) => recordToCsvRow(a, subject(a))), trailerToCsvRow(chain.trailer)].join('\r\n').split('\n');
  add('good CSV with rows spanning two lines', csvLines);
  // Seq 18's row spans two lines: dropping the last line ends the export inside its quoted field.
  const csvCut = [exportCsvHeader(), ...chain.artifacts.slice(0, 18).map((a) => recordToCsvRow(a, subject(a)))].join('\r\n').split('\n');
  add('CSV ending inside a quoted field', csvCut.slice(0, -1), keys, { requireTrailer: false });
  const csvAfterTrailer = [exportCsvHeader(), ...chain.artifacts.slice(0, 20).map((a) => recordToCsvRow(a, null)), trailerOf(chain.artifacts.slice(0, 20), key)]
    .map((row) => (typeof row === 'string' ? row : trailerToCsvRow(row)));
  add('CSV with an open quoted row after the trailer, to the end', [...csvAfterTrailer, '"never closed', 'still open']);
  add('CSV with a two-line row after the trailer, then the trailer again', [...csvAfterTrailer, '"x', 'y",1', csvAfterTrailer.at(-1)!]);
  add('CSV with a bad header', ['seq,at,kind', ...csvLines.slice(1)]);
  const csvBadSig = [exportCsvHeader(), ...chain.artifacts.map((a) => recordToCsvRow(a.seq === mid ? { ...a, signature: chain.artifacts[0]!.signature } : a, subject(a))), trailerToCsvRow(chain.trailer)].join('\r\n').split('\n');
  add('CSV with a bad signature in the middle', csvBadSig);

  // Signatures.
  add('bad signature in the middle', editLine(good, mid, flipSignature));
  add('bad signature on the first record', editLine(good, 1, flipSignature));
  add('bad signature on the last record', editLine(good, n, flipSignature));
  for (const at of [16, 17, 32, 33, 64, 65]) add(`bad signature at line ${at}`, editLine(good, at, flipSignature));
  add('bad signature, then a broken hash soon after', editLine(editLine(good, mid, flipSignature), mid + 5, (r) => (r.hash = '0'.repeat(64))));
  add('bad signature, then garbage soon after', [...editLine(good, mid, flipSignature).slice(0, mid + 3), 'not json', ...good.slice(mid + 3)]);
  add('an edited canonical with a recomputed hash', editLine(good, mid, (r) => {
    r.canonical = String(r.canonical).replace('"decision":"approve"', '"decision":"deny"');
    r.hash = sha256Hex(String(r.canonical));
  }));
  add('a different public key under the right key id', good, new Map([[key.keyId, other.publicKey]]));
  add('a key that is not Ed25519 under the right key id', good, new Map([[key.keyId, generateKeyPairSync('x25519').publicKey]]));
  add('unknown key', good, new Map([[other.keyId, other.publicKey]]));

  // Links and order.
  const forged = sealArtifact({ seq: mid, prevHash: sha256Hex('elsewhere'), at: atSecond(mid), event: eventAt(mid - 1), key });
  add('broken link (a validly signed record hung elsewhere)', good.map((l, i) => (i === mid - 1 ? JSON.stringify(forged) : l)));
  const swapped = [...good];
  [swapped[mid], swapped[mid + 1]] = [swapped[mid + 1]!, swapped[mid]!];
  add('reordered: two swapped records', swapped);
  add('reordered: a record moved back', [...good.slice(0, 20), good[mid]!, ...good.slice(20, mid), ...good.slice(mid + 1)]);
  add('duplicated record', [...good.slice(0, mid), good[mid - 1]!, ...good.slice(mid)]);
  add('deleted record (gap)', good.filter((_, i) => i !== mid));
  add('deleted record, then a bad signature', editLine(good.filter((_, i) => i !== 40), mid, flipSignature));
  add('deleted record, then a bad signature, the trailer, and content after it', [...editLine(good.filter((_, i) => i !== 40), n - 3, flipSignature), 'junk']);
  add('chain starting at seq 1 not at genesis', jsonlLines(sealChain(30, key, { anchor: sha256Hex('not genesis') })));

  // Selections: gaps by design, proven by the trailer.
  const picked = chain.artifacts.filter((a) => a.seq % 4 !== 0);
  const selection = jsonl(picked, trailerOf(picked, key, { selection: { actionType: 'payment.send' } }));
  add('good selection with gaps', selection);
  add('selection with a bad signature after a gap', editLine(selection, mid, flipSignature));
  // Reading stops at this line's own problem; only the trailer, read after it, says the gap
  // before it is by design.
  add('selection with a hash mismatch after a gap', editLine(selection, mid, (r) => (r.hash = sha256Hex('forged'))));
  add('selection with a bad signature, the trailer within reach, then content after it', [...editLine(selection, selection.length - 3, flipSignature), 'junk']);
  add('selection missing one more record', selection.filter((_, i) => i !== 50));
  add('selection whose trailer is cut', [...selection.slice(0, -1), selection.at(-1)!.slice(0, 80)]);

  // Fields.
  add('hash mismatch', editLine(good, mid, (r) => (r.hash = sha256Hex('forged'))));
  add('not canonical', editLine(good, mid, (r) => {
    r.canonical = JSON.stringify(JSON.parse(String(r.canonical)), null, 1);
    r.hash = sha256Hex(String(r.canonical));
  }));
  add('unsigned extra field', editLine(good, mid, (r) => (r.approvedBy = 'per_mallory')));
  // Signed by the right key, but the signed event is not one the schema allows: zod's message
  // (in English on every thread) names the field.
  add('signed event with a field the schema refuses', editLine(good, mid, resealBody(key, (b) => (b.event.intentHash = 'short'))));
  add('signed event of an unknown kind', editLine(good, mid + 1, resealBody(key, (b) => (b.event.kind = 'action.teleported'))));
  add('outer field differs from the signed body', editLine(good, mid, (r) => (r.kind = 'action.decided')));
  add('garbage line', [...good.slice(0, mid), 'not json', ...good.slice(mid)]);
  add('unknown line type', [...good.slice(0, mid), '{"type":"note"}', ...good.slice(mid)]);
  add('a JSON array line', [...good.slice(0, mid), '[1,2]', ...good.slice(mid)]);
  const deep = '['.repeat(100_000) + ']'.repeat(100_000);
  add('canonical nested too deeply to check', editLine(good, mid, (r) => (r.canonical = deep)));
  add('a too deeply nested record after the trailer', [...good, editLine(good, 1, (r) => (r.canonical = deep))[0]!]);
  add('trailer canonical nested too deeply to check', editLine(good, n + 1, (r) => (r.canonical = deep)));

  // Truncation and the trailer.
  add('truncated: trailer and tail dropped', good.slice(0, mid));
  add('truncated: trailer dropped', good.slice(0, n));
  add('truncated: tail dropped, trailer kept', [...good.slice(0, mid), good[n]!]);
  add('truncated: last record cut mid-way', [...good.slice(0, n - 1), good[n - 1]!.slice(0, 300)]);
  add('truncated: trailer cut mid-way', [...good.slice(0, n), good[n]!.slice(0, 90)]);
  add('forged trailer count', editLine(good, n + 1, (r) => (r.canonical = String(r.canonical).replace(`"records":${n}`, `"records":${n - 1}`))));
  add('content after the trailer', [...good, good[0]!]);
  add('trailer signed by an unknown key', jsonlLines(sealChain(30, key, { trailerKey: other })));

  // Rotation and retired keys.
  const rotated = rotatedChain(key, other, n, mid);
  add('good rotated chain', jsonl(rotated, trailerOf(rotated, other)), both);
  const forgery = rotatedChain(key, other, n, mid, (seq) => (seq === mid + 20 ? key : undefined));
  add('retired-key forgery: the old key signs after its rotation', jsonl(forgery, trailerOf(forgery, other)), both);
  const wrongSigner = rotatedChain(key, other, n, mid, (seq) => (seq === mid + 1 ? key : undefined));
  add('bad rotation: not signed by the key it introduces', jsonl(wrongSigner, trailerOf(wrongSigner, other)), both);
  add('trailer signed by the retired key', jsonl(rotated, trailerOf(rotated, key, { exportedAt: atSecond(5) })), both);
  const fork = sealChain(n, key);
  const retired = new Map<string, KeyRetirement>([[key.keyId, { lastSeq: mid, retiredAt: atSecond(mid + 1).toISOString(), successorKeyId: other.keyId }]]);
  add('retired-key fork without the rotation, caught by the JWKS range', jsonlLines(fork), both, { retired });
  add('small signature window', editLine(editLine(good, mid, flipSignature), mid + 2, (r) => (r.hash = '0'.repeat(64))), keys, { concurrency: 1 });
  return cases;
}
