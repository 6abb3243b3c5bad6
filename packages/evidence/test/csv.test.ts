import type { KeyObject } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  artifactToCsvRow,
  exportCsvHeader,
  generateSigningKey,
  parseCsvRecord,
  sealArtifact,
  sealTrailer,
  toCsvRow,
  trailerToCsvRow,
  verifyExport,
  type SigningKey,
} from '../src/index.ts';
import { sealChain, voteEvent, type Chain } from './factories.ts';
import { GENESIS_HASH } from '@countersign/contracts';

const key = generateSigningKey();
const keys = (k: SigningKey = key): Map<string, KeyObject> => new Map([[k.keyId, k.publicKey]]);
const csvLines = (c: Chain): string[] => [exportCsvHeader(), ...c.artifacts.map(artifactToCsvRow), trailerToCsvRow(c.trailer)];
const chain = sealChain(30, key);
const good = csvLines(chain);

describe('CSV rows (RFC 4180)', () => {
  it('quotes fields holding quotes, commas or line breaks, and nothing else', () => {
    expect(toCsvRow([1, 'plain', null, 'a,b', 'say "hi"', 'two\nlines'])).toBe('1,plain,,"a,b","say ""hi""","two\nlines"');
    expect(parseCsvRecord('1,plain,,"a,b","say ""hi""","two\nlines"')).toEqual(['1', 'plain', '', 'a,b', 'say "hi"', 'two\nlines']);
    expect(parseCsvRecord('a,"open')).toBeNull();
    expect(() => parseCsvRecord('a,b"c')).toThrow(/quote/);
    expect(() => parseCsvRecord('"a"b,c')).toThrow(/unexpected/);
  });

  it('has the documented header and puts the trailer in the kind column', () => {
    expect(exportCsvHeader()).toBe(
      'seq,at,kind,actionId,actionType,actor,onBehalfOf,decision,reason,channel,resource,summary,params,hash,prevHash,keyId,signature,canonical',
    );
    expect(trailerToCsvRow(chain.trailer)).toMatch(/^,,export\.trailer,,,,,,,,,,,,,ed25519-[0-9a-f]{16},/);
    const row = parseCsvRecord(artifactToCsvRow(chain.artifacts[0]!))!;
    expect(row[17]).toBe(chain.artifacts[0]!.canonical);
  });
});

describe('verifying a CSV export', () => {
  it('round-trips and is detected by its header (CRLF, as RFC 4180 writes it)', async () => {
    const report = await verifyExport(good.join('\r\n').split('\n'), keys());
    expect(report).toMatchObject({ ok: true, format: 'csv', records: 30, firstSeq: 1, lastSeq: 30 });
  });

  it('names the first bad row by its physical line (the header is line 1)', async () => {
    const lines = [...good];
    lines[7] = lines[7]!.replace('""status"":""approved""', '""status"":""refused""');
    expect(lines[7]).not.toBe(good[7]);
    const report = await verifyExport(lines, keys());
    expect(report.problems).toEqual([expect.objectContaining({ line: 8, seq: 7, code: 'hash_mismatch' })]);
  });

  it('catches a deleted row, a missing trailer and a broken row', async () => {
    const deleted = good.filter((_, i) => i !== 10);
    expect((await verifyExport(deleted, keys())).problems[0]).toMatchObject({ line: 11, seq: 11, code: 'seq_gap' });
    expect((await verifyExport(good.slice(0, -1), keys())).problems[0]).toMatchObject({ line: 32, code: 'truncated' });
    const broken = [...good.slice(0, 5), 'only,three,fields'];
    expect((await verifyExport(broken, keys())).problems[0]).toMatchObject({ line: 6, code: 'invalid_csv' });
    const cut = [...good.slice(0, 5), good[5]!.slice(0, 200)];
    expect((await verifyExport(cut, keys())).problems[0]).toMatchObject({ line: 6, code: 'invalid_csv' });
  });

  it('reads a quoted field that spans lines and keeps counting lines', async () => {
    const event = voteEvent(1, { actionId: 'act_with\nnewline' } as never);
    const a1 = sealArtifact({ seq: 1, prevHash: GENESIS_HASH, at: new Date('2025-01-01T00:00:00Z'), event, key });
    const a2 = sealArtifact({ seq: 2, prevHash: a1.hash, at: new Date('2025-01-01T00:00:01Z'), event: voteEvent(2), key });
    const trailer = sealTrailer({ records: 2, firstSeq: 1, lastSeq: 2, lastHash: a2.hash, from: null, to: null, exportedAt: new Date(), key });
    const text = [exportCsvHeader(), artifactToCsvRow(a1), artifactToCsvRow(a2), trailerToCsvRow(trailer)].join('\r\n');
    expect(await verifyExport(text.split('\n'), keys())).toMatchObject({ ok: true, records: 2 });
    const tampered = text.replace(a2.hash, a1.hash).split('\n');
    expect((await verifyExport(tampered, keys())).problems[0]).toMatchObject({ line: 4, seq: 2, code: 'hash_mismatch' });
  });
});
