import type { KeyObject } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  artifactToCsvRow,
  CSV_COLUMNS,
  csvLayout,
  exportCsvHeader,
  generateSigningKey,
  parseCsvRecord,
  shownColumn,
  toCsvRow,
  trailerToCsvRow,
  verifyExport,
  verifyExportParallel,
} from '../src/index.ts';
import { jsonlLines, sealChain } from './factories.ts';

// Verify checks the signed-body columns (decision, reason, …) against the signed canonical and
// ignores every other column. A column renamed so a person still reads it as a checked one
// would carry forged cells past verify: refused. Columns someone added are named in the report.

const key = generateSigningKey();
const keys: Map<string, KeyObject> = new Map([[key.keyId, key.publicKey]]);
const chain = sealChain(12, key);
const rows = [exportCsvHeader(), ...chain.artifacts.map(artifactToCsvRow), trailerToCsvRow(chain.trailer)];
const header = parseCsvRecord(rows[0]!)!;

/** The export with column `from` renamed `to`, and each non-empty cell of it turned into `cell`. */
function renamed(from: string, to: string, cell: string): string[] {
  const at = header.indexOf(from);
  return rows.map((row, i) => {
    const fields = parseCsvRecord(row)!;
    if (i === 0) fields[at] = to;
    else if (fields[at] !== '') fields[at] = cell;
    return toCsvRow(fields);
  });
}

describe('CSV columns', () => {
  it('a forged decision cell fails under its own name (the baseline)', async () => {
    const forged = renamed('decision', 'decision', 'deny');
    expect((await verifyExport(forged, keys)).problems[0]).toMatchObject({ code: 'field_mismatch' });
  });

  // Each was `ok: true` with every decision cell forged, the renamed column read as an annotation.
  const lookalikes: Array<[string, string]> = [
    ['decision', 'deci\u200bsion'], // zero-width space
    ['decision', 'd\u0435cision'], // Cyrillic е
    ['decision', 'Decision'],
    ['decision', 'decision '],
    ['decision', 'DÉCISION'],
    ['reason', 're\u00adason'], // soft hyphen
    ['actor', '\ufeffactor'],
    ['channel', 'сhannel'], // Cyrillic с
    ['decision', 'dec\u0131sion'], // dotless ı: a letter of no look-alike table, any one letter
    ['decision', 'decisi\u0585n'], // Armenian օ
    ['decision', '\uff44\uff45\uff43\uff49\uff53\uff49\uff4f\uff4e'], // fullwidth
    ['decision', '\u{1d41d}\u{1d41e}\u{1d41c}\u{1d422}\u{1d42c}\u{1d422}\u{1d428}\u{1d427}'], // mathematical bold
    // Found by the second review of this check:
    ['decision', 'decision\u3164'], // a Hangul filler: a letter nobody sees
    ['decision', '\u202enoisiced'], // stored backwards, shown forwards by a right-to-left override
    ['channel', 'channeI'], // capital I for l
    ['onBehalfOf', 'onBehaIfOf'],
    ['decision', 'decisi0n'], // zero for o
    ['decision', 'decisi\u0be6n'], // Tamil zero
    ['decision', 'de\u03f2isi\u0585\u0578'], // three letters of two other scripts
  ];
  for (const [column, name] of lookalikes) {
    it(`refuses ${shownColumn(name)} in place of "${column}", on one thread and on two`, async () => {
      const forged = renamed(column, name, 'deny');
      const problem = { line: 1, code: 'invalid_csv', message: `column ${shownColumn(name)} looks like "${column}" but is spelled differently: a renamed column would go unchecked` };
      expect(await verifyExport(forged, keys)).toMatchObject({ ok: false, format: 'csv', problems: [problem] });
      expect(await verifyExportParallel(forged, keys, { threads: 2, minLinesForThreads: 0, batchLines: 2 })).toMatchObject({ ok: false, problems: [problem] });
    });
  }

  it('a look-alike added beside the real column is refused too', () => {
    expect(csvLayout([...header, 'Decision'])).toMatchObject({ ok: false, message: expect.stringContaining('looks like "decision"') });
    expect(csvLayout([...header, 's e q'])).toMatchObject({ ok: false, message: expect.stringContaining('looks like "seq"') });
  });

  it('a name in another language is its own name, not a disguise', () => {
    for (const name of ['决定', 'Entscheidung', 'résumé', 'Kanäle', 'décision_finale', 'seq2', 'notes', 'final decision', 'status']) expect(csvLayout([...header, name]), name).toMatchObject({ ok: true });
  });

  it('a look-alike of a subject column is no disguise: those cells are annotations already', async () => {
    // An older export with only the record columns, and a spreadsheet's own "Summary".
    const nine = ['seq', 'at', 'kind', 'actionId', 'hash', 'prevHash', 'keyId', 'signature', 'canonical'];
    for (const name of ['Summary', 'Resource', 'Params']) {
      expect(csvLayout([...nine, name]), name).toMatchObject({ ok: true });
      expect(csvLayout([...header, name]), name).toMatchObject({ ok: true });
    }
  });

  it('columns of other names are added columns: they verify, and the report names them', async () => {
    const added = rows.map((row, i) => toCsvRow([...parseCsvRecord(row)!, ...(i === 0 ? ['reviewed by', 'decision (final)', 'Entscheidung'] : ['', '', ''])]));
    expect(await verifyExport(added, keys)).toMatchObject({ ok: true, records: 12, addedColumns: ['reviewed by', 'decision (final)', 'Entscheidung'] });
    expect(await verifyExportParallel(added, keys, { threads: 2, minLinesForThreads: 0, batchLines: 2 })).toMatchObject({ ok: true, addedColumns: ['reviewed by', 'decision (final)', 'Entscheidung'] });
    // The export as written adds none (its subject columns are its own), nor does JSONL.
    expect(await verifyExport(rows, keys)).toMatchObject({ ok: true, addedColumns: [] });
    expect(await verifyExport(jsonlLines(chain), keys)).toMatchObject({ ok: true, addedColumns: [] });
    // Every column the export writes is accepted as itself.
    expect(csvLayout([...CSV_COLUMNS])).toMatchObject({ ok: true });
  });

  it('shows a column name with anything unprintable escaped, and cut when long', () => {
    expect(shownColumn('deci\u200bsion')).toBe('"deci\\u200bsion"');
    expect(shownColumn('say "hi" \\ there')).toBe('"say \\"hi\\" \\\\ there"');
    expect(shownColumn('x'.repeat(200))).toBe(`"${'x'.repeat(200)}"`);
    expect(shownColumn(`${'x'.repeat(150)}${' '.repeat(100)}decision`)).toBe(`"${'x'.repeat(120)}…(78 more)…${' '.repeat(52)}decision"`);
  });
});
