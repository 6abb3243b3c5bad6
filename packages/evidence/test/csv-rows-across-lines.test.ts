import type { KeyObject } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  artifactToCsvRow,
  exportCsvHeader,
  generateSigningKey,
  parseCsvRecord,
  toCsvRow,
  trailerToCsvRow,
  verifyExport,
  verifyExportOnOneThread,
  verifyExportParallel,
  VerifyThreads,
} from '../src/index.ts';
import { csvRowContinues, MAX_CARRIED_HEADER_CHARS, MAX_CARRIED_ROW_CHARS } from '../src/verify-input.ts';
import { sealChain } from './factories.ts';

// A CSV row whose quoted field holds a line break spans physical lines: a reason typed over two
// lines, or a column someone added with a two-line name. The reader carries such a row until
// its field closes, scanning each line once.

const key = generateSigningKey();
const keys: Map<string, KeyObject> = new Map([[key.keyId, key.publicKey]]);
const chain = sealChain(12, key);
const rows = [exportCsvHeader(), ...chain.artifacts.map(artifactToCsvRow), trailerToCsvRow(chain.trailer)];
/** The export as a line reader gives it: one string per physical line (a CR before each LF kept). */
const physical = (logical: string[], eol = '\n'): string[] => logical.join(eol).split('\n');
const withColumn = (name: string): string[] => rows.map((row, i) => toCsvRow([...parseCsvRecord(row)!, i === 0 ? name : '']));

const ways = {
  'one thread': (lines: string[]) => verifyExportOnOneThread(lines, keys),
  'calling thread and libuv': (lines: string[]) => verifyExport(lines, keys),
  'two threads': (lines: string[]) => verifyExportParallel(lines, keys, { threads: 2, minLinesForThreads: 0, batchLines: 3 }),
};

describe('CSV rows across lines', () => {
  for (const [way, verify] of Object.entries(ways)) {
    it(`${way}: a header whose added column's name holds a line break is the header (it was read as JSONL)`, async () => {
      const lines = physical(withColumn('reviewed\nby'));
      expect(lines.length).toBe(rows.length + 1);
      expect(await verify(lines)).toMatchObject({ ok: true, records: 12, problems: [] });
      // Written with CRLF line ends: the same.
      expect(await verify(physical(withColumn('reviewed\r\nby'), '\r\n'))).toMatchObject({ ok: true, records: 12 });
    });

    it(`${way}: a header left open to the end is an unterminated field at line 1, not invalid JSON`, async () => {
      // Cut inside an added column's name: no quote closes it.
      const lines = [`${exportCsvHeader()},"notes`, 'on this export', ''];
      const report = await verify(lines);
      expect(report.ok).toBe(false);
      expect(report.problems[0]).toMatchObject({ line: 1, code: 'invalid_csv', message: 'unterminated quoted field (cut short?)' });
    });
  }

  it('a first row left open says csv, as its problem does', async () => {
    const report = await verifyExport([`${exportCsvHeader()},"notes`, 'on this export'], keys);
    expect(report).toMatchObject({ format: 'csv', problems: [{ line: 1, code: 'invalid_csv' }] });
  });

  // A stray quote must not make the reader keep the rest of the file: a row is refused at its
  // first line once it holds more than any export writes.
  it('a header left open past 64 KiB is refused at line 1, without reading on', async () => {
    let read = 0;
    const first = `${exportCsvHeader()},"notes`;
    function* lines() {
      yield first;
      for (let i = 0; i < 1_000_000; i++) {
        read += 1;
        yield '';
      }
    }
    const array = [...lines()].slice(0, MAX_CARRIED_HEADER_CHARS + 10);
    for (const verify of Object.values(ways)) {
      const report = await verify(array);
      expect(report).toMatchObject({ ok: false, format: 'csv', problems: [{ line: 1, code: 'invalid_csv', message: 'a quoted field runs on past 64 KiB (a stray quote, or not an export)' }] });
    }
    // Streamed: reading stops at the limit (a blank line is one character, its line break).
    read = 0;
    await verifyExportOnOneThread(lines(), keys);
    expect(read).toBe(MAX_CARRIED_HEADER_CHARS - first.length + 1);
    // On threads already up, where lines go out in batches: the refusal is judged at once, not
    // when a batch fills (blank lines fill none), so reading stops there too.
    const up = new VerifyThreads(2);
    try {
      await up.ready;
      read = 0;
      const report = await verifyExportParallel(lines(), keys, { threads: up, minLinesForThreads: 0 });
      expect(report.problems[0]).toMatchObject({ line: 1, code: 'invalid_csv' });
      expect(read).toBe(MAX_CARRIED_HEADER_CHARS - first.length + 1);
    } finally {
      await up.close();
    }
  });

  it('a record row left open past 8 MiB is refused at the line it began; before the trailer or after it', async () => {
    const filler = 'x'.repeat(1023);
    const count = Math.ceil(MAX_CARRIED_ROW_CHARS / 1024);
    let read = 0;
    function* lines(afterTrailer: boolean) {
      yield* afterTrailer ? rows : rows.slice(0, 4);
      yield '7,"unclosed';
      for (let i = 0; i < count + 1_000; i++) {
        read += 1;
        yield filler;
      }
    }
    read = 0;
    expect((await verifyExportOnOneThread(lines(false), keys)).problems[0]).toMatchObject({ line: 5, code: 'invalid_csv', message: 'a quoted field runs on past 8 MiB (a stray quote, or not an export)' });
    expect(read).toBe(count);
    expect((await verifyExport(lines(true), keys)).problems[0]).toMatchObject({ line: rows.length + 1, code: 'after_trailer' });
    // Just under the limit the row is carried to its end, and examined as the row it is.
    const under = [...rows.slice(0, 4), '7,"unclosed', ...Array.from({ length: count - 2 }, () => filler), 'x"'];
    expect((await verifyExport(under, keys)).problems[0]).toMatchObject({ line: 5, code: 'invalid_csv', message: expect.stringMatching(/fields/) });
  });

  it('a first row that spans lines but names no seq column is read as JSONL, from its first line', async () => {
    const report = await verifyExport(['note,"two', 'lines"', ...rows.slice(1)], keys);
    expect(report.problems[0]).toMatchObject({ line: 1, code: 'invalid_json' });
  });

  it('a record row left open: refused at the line it began, every line after it carried', async () => {
    const open = [...rows.slice(0, 3), '1,"unclosed', ...Array.from({ length: 50 }, (_, i) => `line ${i}, with a comma`)];
    for (const verify of Object.values(ways)) {
      expect((await verify(open)).problems[0]).toMatchObject({ line: 4, code: 'invalid_csv', message: 'unterminated quoted field (cut short?)' });
    }
  });

  // Rescanning the carried row at every line made reading quadratic: an export left open after
  // its second row took 109 s at 40,000 lines on the 2-core machine. Counted, not timed: the
  // scans (String#indexOf calls) for 4× the lines must grow about 4×, where rescanning grew 16×.
  it('a row left open is scanned line by line, never the whole row again at each line', async () => {
    const scans = async (n: number): Promise<number> => {
      // Two escaped quotes a line keep the field open, and each costs a rescan a search.
      const lines = [exportCsvHeader(), '1,"unclosed', ...Array.from({ length: n }, (_, i) => `line ${i}, with ""quotes"" in it`)];
      const indexOf = String.prototype.indexOf;
      let calls = 0;
      String.prototype.indexOf = function (this: string, ...args: Parameters<typeof indexOf>) {
        calls += 1;
        return indexOf.apply(this, args);
      };
      try {
        const report = await verifyExportOnOneThread(lines, keys);
        expect(report.problems[0]).toMatchObject({ line: 2, code: 'invalid_csv' });
      } finally {
        String.prototype.indexOf = indexOf;
      }
      return calls;
    };
    const small = await scans(1_000);
    const large = await scans(4_000);
    expect(small).toBeGreaterThan(1_000);
    expect(large / small).toBeLessThan(6);
  });
});

describe('csvRowContinues', () => {
  // The reader's rule must be parseCsvRecord's: a row continues exactly when parsing it ends
  // inside a quoted field (null); a malformed row (it throws) is complete.
  const endsOpen = (text: string): boolean => {
    try {
      return parseCsvRecord(text) === null;
    } catch {
      return false;
    }
  };

  it('agrees with parseCsvRecord on every row of up to 7 characters over a, comma, quote and CR', () => {
    const alphabet = ['a', ',', '"', '\r'];
    let checked = 0;
    const walk = (text: string): void => {
      expect(csvRowContinues(text, 0, false), JSON.stringify(text)).toBe(endsOpen(text));
      checked += 1;
      if (text.length < 7) for (const c of alphabet) walk(text + c);
    };
    walk('');
    expect(checked).toBe((4 ** 8 - 1) / 3);
  });

  it('scanning only the next line, inside the open field, agrees with rescanning the joined row', () => {
    const alphabet = ['a', ',', '"'];
    const lines: string[] = [''];
    for (let length = 1; length <= 5; length++) for (const prefix of lines.filter((l) => l.length === length - 1)) for (const c of alphabet) lines.push(prefix + c);
    let pairs = 0;
    for (const first of lines) {
      if (!endsOpen(first)) continue;
      for (const next of lines) {
        expect(csvRowContinues(next, 0, true), JSON.stringify([first, next])).toBe(endsOpen(`${first}\n${next}`));
        pairs += 1;
      }
    }
    expect(pairs).toBeGreaterThan(10_000);
  });
});
