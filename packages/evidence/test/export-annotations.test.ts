import type { KeyObject } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { SealedArtifact } from '@countersign/contracts';
import {
  CSV_RECORD_COLUMNS,
  exportCsvHeader,
  generateSigningKey,
  parseCsvRecord,
  recordToCsvRow,
  SelectionDigest,
  sealTrailer,
  sha256Hex,
  toCsvRow,
  trailerToCsvRow,
  verifyExport,
  type ExportTrailer,
  type RecordSubject,
} from '../src/index.ts';
import { sealChain } from './factories.ts';

// Annotations (what was approved) ride on export records unsigned; CSV shows signed-body
// columns that verify checks; a selection export has gaps by design, its trailer's count and
// digest prove it whole.

const key = generateSigningKey();
const keys: Map<string, KeyObject> = new Map([[key.keyId, key.publicKey]]);
const chain = sealChain(30, key);
const subject = (a: SealedArtifact): RecordSubject | null =>
  a.actionId ? { type: 'payment.send', resource: `acct/${a.actionId}`, summary: 'Pay, "urgent", now', params: { iban: '[redacted]', amount: 12 } } : null;
const annotated = (a: SealedArtifact): Record<string, unknown> => (subject(a) ? { ...a, subject: subject(a) } : { ...a });
const jsonl = (records: SealedArtifact[], trailer: ExportTrailer): string[] => [...records.map((a) => JSON.stringify(annotated(a))), JSON.stringify(trailer)];
const csv = (records: SealedArtifact[], trailer: ExportTrailer): string[] => [exportCsvHeader(), ...records.map((a) => recordToCsvRow(a, subject(a))), trailerToCsvRow(trailer)];

function selectionOf(records: SealedArtifact[], filter: Record<string, string> = { actionType: 'payment.send' }): { records: SealedArtifact[]; trailer: ExportTrailer } {
  const digest = new SelectionDigest();
  for (const r of records) digest.add(r.hash);
  const last = records.at(-1);
  const trailer = sealTrailer({
    records: records.length,
    firstSeq: records[0]?.seq ?? null,
    lastSeq: last?.seq ?? null,
    lastHash: last?.hash ?? null,
    from: null,
    to: null,
    exportedAt: new Date('2025-03-02T00:00:00.000Z'),
    key,
    selection: { filter, digest: digest.hex() },
  });
  return { records, trailer };
}

// Every record of the factories' escalated/decided events (kinds 0 and 2 mod 4) plus the
// votes of act_…0: gaps everywhere, and adjacent pairs (seq 1,2 / 2,3) where links are checked.
const picked = chain.artifacts.filter((a) => a.kind === 'action.escalated' || a.kind === 'action.decided' || a.seq <= 3);
const selection = selectionOf(picked);

describe('the unsigned subject annotation', () => {
  it('is set aside: a JSONL export with it verifies and says how many records carried one', async () => {
    const report = await verifyExport(jsonl(chain.artifacts, chain.trailer), keys);
    expect(report).toMatchObject({ ok: true, records: 30, annotated: chain.artifacts.filter((a) => a.actionId).length });
  });

  it('may be edited without failing verification (it is not evidence), while a signed field may not', async () => {
    const lines = jsonl(chain.artifacts, chain.trailer);
    const edited = JSON.parse(lines[4]!) as Record<string, unknown>;
    edited.subject = { type: 'x', resource: 'env/elsewhere', summary: null, params: {} };
    lines[4] = JSON.stringify(edited);
    expect((await verifyExport(lines, keys)).ok).toBe(true);

    edited.canonical = String(edited.canonical).replace('"actionType":"', '"actionType":"x');
    lines[4] = JSON.stringify(edited);
    expect((await verifyExport(lines, keys)).problems[0]).toMatchObject({ line: 5, code: 'hash_mismatch' });
  });

  it('must be an object, and only records carry one (not the trailer)', async () => {
    const lines = jsonl(chain.artifacts, chain.trailer);
    lines[2] = JSON.stringify({ ...chain.artifacts[2], subject: 'approved' });
    expect((await verifyExport(lines, keys)).problems[0]).toMatchObject({ line: 3, code: 'invalid_record' });
    const withTrailerSubject = jsonl(chain.artifacts, chain.trailer);
    withTrailerSubject[30] = JSON.stringify({ ...chain.trailer, subject: {} });
    expect((await verifyExport(withTrailerSubject, keys)).problems[0]).toMatchObject({ line: 31, code: 'trailer_invalid' });
  });
});

describe('CSV columns', () => {
  const good = csv(chain.artifacts, chain.trailer);
  const header = parseCsvRecord(good[0]!)!;
  const col = (name: string) => header.indexOf(name);
  const editCell = (lines: string[], i: number, name: string, value: string): string[] => {
    const out = [...lines];
    const fields = parseCsvRecord(out[i]!)!;
    fields[col(name)] = value;
    out[i] = toCsvRow(fields);
    return out;
  };

  it('show who did what from the signed body, and what was approved from the annotation', async () => {
    const vote = parseCsvRecord(good[2]!)!; // seq 2: a vote
    expect([vote[col('kind')], vote[col('actor')], vote[col('decision')], vote[col('channel')], vote[col('actionType')]]).toEqual([
      'vote.recorded', 'per_1', 'approve', 'slack', 'environment.delete',
    ]);
    const decided = parseCsvRecord(good[3]!)!;
    expect([decided[col('actor')], decided[col('decision')]]).toEqual(['per_carol', 'approved']);
    expect(JSON.parse(decided[col('params')]!)).toEqual({ iban: '[redacted]', amount: 12 });
    expect(decided[col('summary')]).toBe('Pay, "urgent", now');
    expect(await verifyExport(good, keys)).toMatchObject({ ok: true, format: 'csv', records: 30 });
  });

  it('refuse an edited signed-body column (decision, actor) but ignore edited annotation columns', async () => {
    expect((await verifyExport(editCell(good, 2, 'decision', 'deny'), keys)).problems[0]).toMatchObject({ line: 3, seq: 2, code: 'field_mismatch' });
    expect((await verifyExport(editCell(good, 3, 'actor', 'per_mallory'), keys)).problems[0]).toMatchObject({ line: 4, code: 'field_mismatch' });
    const report = await verifyExport(editCell(editCell(good, 3, 'resource', 'env/other'), 3, 'params', '{}'), keys);
    expect(report.ok).toBe(true);
  });

  it('are found by name: extra, reordered or older (record-only) layouts verify; a missing record column does not', async () => {
    const withNote = good.map((line, i) => `${line},${i === 0 ? 'note' : i === 5 ? 'checked by grace' : ''}`);
    expect((await verifyExport(withNote, keys)).ok).toBe(true);

    const order = [...CSV_RECORD_COLUMNS].reverse();
    const reordered = good.map((line) => {
      const fields = parseCsvRecord(line)!;
      return toCsvRow(order.map((name) => fields[col(name)]!));
    });
    expect(reordered[0]).toBe(order.join(','));
    expect(await verifyExport(reordered, keys)).toMatchObject({ ok: true, records: 30, annotated: 0 });

    const noCanonical = good.map((line) => toCsvRow(parseCsvRecord(line)!.filter((_, i) => i !== col('canonical'))));
    expect((await verifyExport(noCanonical, keys)).problems[0]).toMatchObject({ line: 1, code: 'invalid_csv', message: expect.stringMatching(/canonical/) });
  });
});

describe('a selection export', () => {
  it('verifies in both formats although its sequence has gaps, and reports its filter', async () => {
    expect(picked.length).toBeGreaterThan(5);
    for (const lines of [jsonl(selection.records, selection.trailer), csv(selection.records, selection.trailer)]) {
      const report = await verifyExport(lines, keys);
      expect(report).toMatchObject({ ok: true, records: picked.length, firstSeq: 1, lastSeq: picked.at(-1)!.seq });
      expect(report.trailer?.selection?.filter).toEqual({ actionType: 'payment.send' });
    }
  });

  it('detects a removed record (middle or last), an added one and a reordered one', async () => {
    const lines = jsonl(selection.records, selection.trailer);
    const removed = lines.filter((_, i) => i !== 5);
    expect((await verifyExport(removed, keys)).problems[0]).toMatchObject({ code: 'trailer_mismatch' });
    const lastRemoved = lines.filter((_, i) => i !== lines.length - 2);
    expect((await verifyExport(lastRemoved, keys)).problems[0]).toMatchObject({ code: 'trailer_mismatch' });

    // A genuine, validly signed record of the chain that the selection did not include.
    const extra = chain.artifacts.find((a) => !picked.includes(a) && a.seq > picked[5]!.seq && a.seq < picked[6]!.seq)!;
    const added = [...lines.slice(0, 6), JSON.stringify(extra), ...lines.slice(6)];
    expect((await verifyExport(added, keys)).problems[0]).toMatchObject({ code: 'trailer_mismatch', message: expect.stringMatching(/digest|records/) });

    const swapped = [...lines];
    [swapped[5], swapped[6]] = [swapped[6]!, swapped[5]!];
    expect((await verifyExport(swapped, keys)).problems[0]).toMatchObject({ line: 7, code: 'seq_order' });
  });

  it('detects a changed signed field and checks the links where records are adjacent', async () => {
    const lines = csv(selection.records, selection.trailer);
    lines[3] = lines[3]!.replace('""status"":""approved""', '""status"":""refused""');
    expect((await verifyExport(lines, keys)).problems[0]).toMatchObject({ line: 4, code: 'hash_mismatch' });

    // seq 2 re-sealed (validly, same key) over a different previous hash: its link to seq 1 breaks.
    const forked = sealChain(3, key, { anchor: sha256Hex('elsewhere') }).artifacts;
    const records = [selection.records[0]!, { ...forked[1]!, seq: 2 }, ...selection.records.slice(2)];
    const relinked = selectionOf(records.map((r) => r as SealedArtifact));
    // (the forked record's own seq is 2 as well: sealChain starts at 1)
    expect((await verifyExport(jsonl(relinked.records, relinked.trailer), keys)).problems[0]).toMatchObject({ line: 2, seq: 2, code: 'chain_broken' });
  });

  it('cannot be passed off as a full export, nor a full export with a gap as a selection', async () => {
    const asFull = [...jsonl(selection.records, selection.trailer).slice(0, -1), JSON.stringify(chain.trailer)];
    expect((await verifyExport(asFull, keys)).problems[0]).toMatchObject({ code: 'seq_gap', line: 4 });
    const gapped = jsonl(chain.artifacts, chain.trailer).filter((_, i) => i !== 10);
    expect(await verifyExport(gapped, keys)).toMatchObject({ ok: false, records: 10, lastSeq: 10, problems: [expect.objectContaining({ line: 11, seq: 12, code: 'seq_gap' })] });

    const forged = JSON.parse(selection.trailer.canonical) as { selection: { filter: Record<string, string> } };
    forged.selection.filter = { actionType: 'environment.delete' };
    const forgedTrailer = { ...selection.trailer, canonical: JSON.stringify(forged) };
    const report = await verifyExport([...jsonl(selection.records, selection.trailer).slice(0, -1), JSON.stringify(forgedTrailer)], keys);
    expect(report.problems[0]?.code).toMatch(/trailer_invalid|trailer_bad_signature/);
  });

  it('of nothing is an empty selection with the digest of no records', async () => {
    const empty = selectionOf([]);
    expect(await verifyExport(jsonl([], empty.trailer), keys)).toMatchObject({ ok: true, records: 0 });
    expect(JSON.parse(empty.trailer.canonical).selection.digest).toBe(sha256Hex(''));
  });
});
