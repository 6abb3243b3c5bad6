import { describe, expect, it } from 'vitest';
import { generateSigningKey, linesOf, verifyExport } from '../src/index.ts';
import { jsonlLines, sealChain } from './factories.ts';

// Splitting an export stream into lines: the same lines however the stream is cut, and a long
// line read in time linear in its length (an export can come from anyone).

async function collect(chunks: Array<Uint8Array | string>): Promise<string[]> {
  const out: string[] = [];
  async function* source() {
    yield* chunks;
  }
  for await (const line of linesOf(source())) out.push(line);
  return out;
}

describe('linesOf', () => {
  const text = 'first\r\n\nsecond line, é and 😀\nthird\n\nlast without a newline';
  const expected = text.split('\n');

  it('gives the same lines for every way of cutting the bytes in two or three', async () => {
    const bytes = Buffer.from(text);
    let cuts = 0;
    for (let a = 0; a <= bytes.length; a++) {
      for (let b = a; b <= bytes.length; b += 5) {
        expect(await collect([bytes.subarray(0, a), bytes.subarray(a, b), bytes.subarray(b)])).toEqual(expected);
        cuts += 1;
      }
    }
    expect(cuts).toBeGreaterThan(400);
  });

  it('reads strings, empty chunks, a newline at the very end and nothing at all', async () => {
    expect(await collect(['a', '', 'b\nc', '\n'])).toEqual(['ab', 'c']);
    expect(await collect(['\n'])).toEqual(['']);
    expect(await collect([])).toEqual([]);
    expect(await collect([Buffer.from([0xe2, 0x82]), Buffer.from([0xac, 0x0a])])).toEqual(['€']);
    // A cut-off multi-byte character at the end decodes as U+FFFD: the damaged line is kept.
    expect(await collect([Buffer.from([0x61, 0xe2, 0x82])])).toEqual(['a\ufffd']);
  });

  it('keeps a BOM: the verifier drops one at the start of the export, as for lines given as text', async () => {
    expect(await collect([Buffer.from('\ufeff\ufeffa\nb')])).toEqual(['\ufeff\ufeffa', 'b']);
    const key = generateSigningKey();
    const keys = new Map([[key.keyId, key.publicKey]]);
    const lines = jsonlLines(sealChain(3, key));
    for (const boms of ['\ufeff', '\ufeff\ufeff', '']) {
      const asText = [boms + lines[0], ...lines.slice(1)];
      const bytes = Buffer.from(asText.join('\n'));
      const streamed = await verifyExport(linesOf((async function* () { yield bytes.subarray(0, 1); yield bytes.subarray(1); })()), keys);
      expect(streamed).toEqual(await verifyExport(asText, keys));
      expect(streamed.ok).toBe(boms.length < 2);
    }
    // A file of nothing but a BOM: the same report either way.
    expect(await verifyExport(linesOf((async function* () { yield Buffer.from('\ufeff'); })()), keys)).toEqual(await verifyExport(['\ufeff'], keys));
  });

  // Appending each chunk to the line so far and searching it from its start made a long line
  // quadratic (a 64 MB line without a break took 105 s on the 2-core machine). Counted, not
  // timed: the characters searched for a line 4× longer must grow about 4×, not 16×.
  it('searches each character of a long line once', async () => {
    const searched = async (chunks: number): Promise<number> => {
      const chunk = 'x'.repeat(4096);
      const indexOf = String.prototype.indexOf;
      let chars = 0;
      String.prototype.indexOf = function (this: string, search: string, position?: number) {
        chars += this.length - Math.max(0, position ?? 0);
        return indexOf.call(this, search, position);
      };
      let lines: string[];
      try {
        lines = await collect([...Array.from({ length: chunks }, () => chunk), '\nend']);
      } finally {
        String.prototype.indexOf = indexOf;
      }
      expect(lines.map((l) => l.length)).toEqual([chunks * 4096, 3]);
      return chars;
    };
    const short = await searched(100);
    const long = await searched(400);
    expect(short).toBeGreaterThanOrEqual(100 * 4096);
    expect(long / short).toBeLessThan(6);
  });
});
