import { Readable } from 'node:stream';
import { sign, type KeyObject } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { GENESIS_HASH, type SealedArtifact } from '@countersign/contracts';
import {
  canonicalJson,
  generateSigningKey,
  linesOf,
  sealArtifact,
  sealTrailer,
  sha256Hex,
  verifyExport,
  type SigningKey,
  type VerifyReport,
} from '../src/index.ts';
import { eventAt, jsonlLines, sealChain, voteEvent } from './factories.ts';

const keyA = generateSigningKey();
const keyB = generateSigningKey();
const keysOf = (...keys: SigningKey[]): Map<string, KeyObject> => new Map(keys.map((k) => [k.keyId, k.publicKey]));
const chain = sealChain(50, keyA);
const good = jsonlLines(chain);

/** Apply an edit to the parsed JSON of line `n` (1-based) and return all lines. */
function editLine(lines: string[], n: number, edit: (rec: Record<string, unknown>) => void): string[] {
  const out = [...lines];
  const rec = JSON.parse(out[n - 1]!) as Record<string, unknown>;
  edit(rec);
  out[n - 1] = JSON.stringify(rec);
  return out;
}

function expectFirstProblem(report: VerifyReport, expected: { line: number; seq?: number; code: string }): void {
  expect(report.ok).toBe(false);
  expect(report.problems).toHaveLength(1);
  expect(report.problems[0]).toMatchObject(expected);
  if (expected.seq === undefined) expect(report.problems[0]?.seq).toBeUndefined();
}

describe('seal → verify round trip', () => {
  it('verifies a 50-artifact chain with its trailer', async () => {
    const report = await verifyExport(good, keysOf(keyA));
    expect(report).toMatchObject({ ok: true, format: 'jsonl', records: 50, firstSeq: 1, lastSeq: 50, anchor: GENESIS_HASH, problems: [] });
    expect(report.lastHash).toBe(chain.artifacts[49]!.hash);
    expect(report.trailer).toMatchObject({ records: 50, firstSeq: 1, lastSeq: 50, lastHash: chain.artifacts[49]!.hash });
  });

  it('seals the documented format: canonical body, hash, base64 signature, link', () => {
    const [first, second] = chain.artifacts as [SealedArtifact, SealedArtifact];
    const body = JSON.parse(first.canonical);
    expect(body).toEqual({ v: 1, seq: 1, prevHash: GENESIS_HASH, at: '2025-03-01T09:00:00.000Z', keyId: keyA.keyId, event: eventAt(0) });
    expect(first.canonical).toBe(canonicalJson(body));
    expect(first.hash).toBe(sha256Hex(first.canonical));
    expect(Buffer.from(first.signature, 'base64')).toHaveLength(64);
    expect(first).toMatchObject({ seq: 1, kind: 'action.escalated', actionId: 'act_0', at: body.at, keyId: keyA.keyId, prevHash: GENESIS_HASH });
    expect(second.prevHash).toBe(first.hash);
    expect(chain.artifacts.find((a) => a.kind === 'config.changed')?.actionId).toBeNull();
  });

  it('reads a byte stream with CRLF line endings and no final newline', async () => {
    const bytes = Buffer.from(good.join('\r\n'));
    const chunks = [bytes.subarray(0, 777), bytes.subarray(777, 5001), bytes.subarray(5001)];
    const report = await verifyExport(linesOf(Readable.from(chunks)), keysOf(keyA));
    expect(report).toMatchObject({ ok: true, records: 50 });
  });

  it('verifies a partial export anchored on an earlier record', async () => {
    const anchor = sha256Hex('record 100');
    const partial = sealChain(10, keyA, { firstSeq: 101, anchor });
    const report = await verifyExport(jsonlLines(partial), keysOf(keyA));
    expect(report).toMatchObject({ ok: true, records: 10, firstSeq: 101, lastSeq: 110, anchor });
  });

  it('verifies an empty export that carries a trailer', async () => {
    const report = await verifyExport(jsonlLines(sealChain(0, keyA)), keysOf(keyA));
    expect(report).toMatchObject({ ok: true, records: 0, firstSeq: null, lastSeq: null, lastHash: null });
  });

  it('gives the same first problem whatever the signature concurrency', async () => {
    const lines = editLine(editLine(good, 40, (r) => (r.signature = chain.artifacts[0]!.signature)), 45, (r) => (r.hash = '0'.repeat(64)));
    for (const concurrency of [1, 4, 128]) {
      expectFirstProblem(await verifyExport(lines, keysOf(keyA), { concurrency }), { line: 40, seq: 40, code: 'bad_signature' });
    }
  });
});

describe('how far reading runs ahead of settling signatures (`concurrency`)', () => {
  // Line 10's signature is bad; every line after it is sound. Reading stops once the window is
  // full behind line 10, so how many lines were pulled shows the window in force.
  const long = sealChain(6_000, keyA);
  const lines = editLine(jsonlLines(long), 10, (r) => (r.signature = long.artifacts[0]!.signature));
  const pulledWith = async (concurrency: number): Promise<number> => {
    let pulled = 0;
    const counted = (function* () {
      for (const line of lines) {
        pulled += 1;
        yield line;
      }
    })();
    expectFirstProblem(await verifyExport(counted, keysOf(keyA), { concurrency }), { line: 10, seq: 10, code: 'bad_signature' });
    return pulled;
  };

  it('is the window asked for, up to 4096: a huge one no longer holds (and re-copies) the whole export', async () => {
    expect(await pulledWith(100)).toBe(10 + 100 - 1);
    // 1e9 held all 6,000 records pending, each settle shifting the whole array (quadratic: a
    // large export stalled the event loop for minutes).
    expect(await pulledWith(1e9)).toBe(10 + 4096 - 1);
    expect(await pulledWith(Infinity)).toBe(10 + 4096 - 1);
    expect(lines.length).toBeGreaterThan(10 + 4096);
  });

  it('a window that is no whole number is read as one: NaN the default (256), fractions floored, below 1 one', async () => {
    expect(await pulledWith(Number.NaN)).toBe(10 + 256 - 1);
    expect(await pulledWith(7.9)).toBe(10 + 7 - 1);
    expect(await pulledWith(-5)).toBe(10);
  });
});

describe('tampering is caught at the first bad record', () => {
  it('an edited field inside canonical breaks the hash', async () => {
    const lines = editLine(good, 10, (r) => (r.canonical = String(r.canonical).replace('"decision":"approve"', '"decision":"deny"')));
    expect(lines[9]).not.toBe(good[9]);
    expectFirstProblem(await verifyExport(lines, keysOf(keyA)), { line: 10, seq: 10, code: 'hash_mismatch' });
  });

  it('an edited canonical with a recomputed hash breaks the signature', async () => {
    const lines = editLine(good, 10, (r) => {
      r.canonical = String(r.canonical).replace('"decision":"approve"', '"decision":"deny"');
      r.hash = sha256Hex(String(r.canonical));
    });
    expectFirstProblem(await verifyExport(lines, keysOf(keyA)), { line: 10, seq: 10, code: 'bad_signature' });
  });

  it('an edited hash', async () => {
    const lines = editLine(good, 17, (r) => (r.hash = sha256Hex('forged')));
    expectFirstProblem(await verifyExport(lines, keysOf(keyA)), { line: 17, seq: 17, code: 'hash_mismatch' });
  });

  it('a changed signature', async () => {
    const lines = editLine(good, 33, (r) => {
      const sig = Buffer.from(String(r.signature), 'base64');
      sig[5]! ^= 0x01;
      r.signature = sig.toString('base64');
    });
    expectFirstProblem(await verifyExport(lines, keysOf(keyA)), { line: 33, seq: 33, code: 'bad_signature' });
  });

  it('a deleted middle line', async () => {
    const lines = good.filter((_, i) => i !== 24);
    expectFirstProblem(await verifyExport(lines, keysOf(keyA)), { line: 25, seq: 26, code: 'seq_gap' });
  });

  it('two swapped lines', async () => {
    const lines = [...good];
    [lines[11], lines[12]] = [lines[12]!, lines[11]!];
    expectFirstProblem(await verifyExport(lines, keysOf(keyA)), { line: 12, seq: 13, code: 'seq_gap' });
  });

  it('a duplicated line', async () => {
    const lines = [...good.slice(0, 20), good[19]!, ...good.slice(20)];
    expectFirstProblem(await verifyExport(lines, keysOf(keyA)), { line: 21, seq: 20, code: 'seq_order' });
  });

  it('a record re-linked to a forged predecessor (valid signature, wrong link)', async () => {
    // Seal seq 31 by the same key but pointing elsewhere: only the chain link can catch it.
    const forged = sealArtifact({ seq: 31, prevHash: sha256Hex('elsewhere'), at: new Date('2025-03-01T09:00:30.000Z'), event: eventAt(30), key: keyA });
    const lines = [...good];
    lines[30] = JSON.stringify(forged);
    expectFirstProblem(await verifyExport(lines, keysOf(keyA)), { line: 31, seq: 31, code: 'chain_broken' });
  });

  it('a chain starting at seq 1 must start at genesis', async () => {
    const fake = sealChain(3, keyA, { anchor: sha256Hex('not genesis') });
    expectFirstProblem(await verifyExport(jsonlLines(fake), keysOf(keyA)), { line: 1, seq: 1, code: 'bad_genesis' });
  });

  it('truncation: trailer and tail dropped', async () => {
    expectFirstProblem(await verifyExport(good.slice(0, 45), keysOf(keyA)), { line: 46, code: 'truncated' });
    expectFirstProblem(await verifyExport(good.slice(0, 50), keysOf(keyA)), { line: 51, code: 'truncated' });
    expectFirstProblem(await verifyExport([], keysOf(keyA)), { line: 1, code: 'truncated' });
  });

  it('truncation: tail dropped, trailer kept', async () => {
    const lines = [...good.slice(0, 45), good[50]!];
    expectFirstProblem(await verifyExport(lines, keysOf(keyA)), { line: 46, code: 'trailer_mismatch' });
  });

  it('truncation: the last line cut mid-way', async () => {
    const cutTrailer = [...good.slice(0, 50), good[50]!.slice(0, 90)];
    expectFirstProblem(await verifyExport(cutTrailer, keysOf(keyA)), { line: 51, code: 'invalid_json' });
    const cutRecord = [...good.slice(0, 49), good[49]!.slice(0, 300)];
    expectFirstProblem(await verifyExport(cutRecord, keysOf(keyA)), { line: 50, code: 'invalid_json' });
  });

  it('without requireTrailer, a trailer-less export verifies but a cut line still fails', async () => {
    expect(await verifyExport(good.slice(0, 50), keysOf(keyA), { requireTrailer: false })).toMatchObject({ ok: true, records: 50, trailer: null });
    const cut = [...good.slice(0, 49), good[49]!.slice(0, 300)];
    expectFirstProblem(await verifyExport(cut, keysOf(keyA), { requireTrailer: false }), { line: 50, code: 'invalid_json' });
  });

  it('a forged trailer count', async () => {
    const lines = editLine(good, 51, (r) => (r.canonical = String(r.canonical).replace('"records":50', '"records":49')));
    expectFirstProblem(await verifyExport(lines, keysOf(keyA)), { line: 51, code: 'trailer_bad_signature' });
  });

  it('content after the trailer', async () => {
    expectFirstProblem(await verifyExport([...good, good[0]!], keysOf(keyA)), { line: 52, code: 'after_trailer' });
    expect(await verifyExport([...good, '', '  '], keysOf(keyA))).toMatchObject({ ok: true });
  });

  it('an outer field that disagrees with the signed body', async () => {
    expectFirstProblem(await verifyExport(editLine(good, 8, (r) => (r.kind = 'action.decided')), keysOf(keyA)), { line: 8, seq: 8, code: 'field_mismatch' });
    expectFirstProblem(await verifyExport(editLine(good, 8, (r) => (r.actionId = 'act_other')), keysOf(keyA)), { line: 8, seq: 8, code: 'field_mismatch' });
    expectFirstProblem(await verifyExport(editLine(good, 8, (r) => (r.seq = 9)), keysOf(keyA)), { line: 8, seq: 8, code: 'field_mismatch' });
  });

  it('unsigned extra fields are refused, not passed through', async () => {
    const lines = editLine(good, 3, (r) => (r.approvedBy = 'per_mallory'));
    expectFirstProblem(await verifyExport(lines, keysOf(keyA)), { line: 3, seq: 3, code: 'invalid_record' });
  });

  it('canonical that is valid JSON but not canonical form', async () => {
    const lines = editLine(good, 5, (r) => {
      r.canonical = JSON.stringify(JSON.parse(String(r.canonical)), null, 1);
      r.hash = sha256Hex(String(r.canonical));
    });
    expectFirstProblem(await verifyExport(lines, keysOf(keyA)), { line: 5, seq: 5, code: 'not_canonical' });
  });

  it('a correctly signed body whose event is not a valid ArtifactEvent', async () => {
    const event = { ...voteEvent(1), decision: 'maybe' };
    const body = { v: 1, seq: 1, prevHash: GENESIS_HASH, at: '2025-03-01T09:00:00.000Z', keyId: keyA.keyId, event };
    const canonical = canonicalJson(body);
    const rec = {
      seq: 1, kind: 'vote.recorded', actionId: (event as { actionId: string }).actionId, at: body.at, canonical, hash: sha256Hex(canonical), prevHash: GENESIS_HASH,
      signature: sign(null, Buffer.from(canonical), keyA.privateKey).toString('base64'), keyId: keyA.keyId,
    };
    const report = await verifyExport([JSON.stringify(rec)], keysOf(keyA), { requireTrailer: false });
    expectFirstProblem(report, { line: 1, seq: 1, code: 'invalid_body' });
    expect(report.problems[0]?.message).toMatch(/event\.decision/);
  });

  it('garbage lines', async () => {
    expectFirstProblem(await verifyExport([good[0]!, 'not json'], keysOf(keyA)), { line: 2, code: 'invalid_json' });
    expectFirstProblem(await verifyExport([good[0]!, '[1,2]'], keysOf(keyA)), { line: 2, code: 'invalid_json' });
    expectFirstProblem(await verifyExport([good[0]!, '{"type":"note"}'], keysOf(keyA)), { line: 2, code: 'invalid_record' });
  });
});

describe('keys', () => {
  it('a different public key: unknown key id', async () => {
    expectFirstProblem(await verifyExport(good, keysOf(keyB)), { line: 1, seq: 1, code: 'unknown_key' });
  });

  it('a different public key filed under the right key id: bad signature', async () => {
    expectFirstProblem(await verifyExport(good, new Map([[keyA.keyId, keyB.publicKey]])), { line: 1, seq: 1, code: 'bad_signature' });
  });

  it('rotation: records signed by two keys verify with both public keys, not with one', async () => {
    const rotated = sealChain(50, (seq) => (seq <= 25 ? keyA : keyB));
    const lines = jsonlLines(rotated);
    expect(JSON.parse(lines[24]!).keyId).toBe(keyA.keyId);
    expect(JSON.parse(lines[25]!).keyId).toBe(keyB.keyId);
    expect(await verifyExport(lines, keysOf(keyA, keyB))).toMatchObject({ ok: true, records: 50 });
    expectFirstProblem(await verifyExport(lines, keysOf(keyA)), { line: 26, seq: 26, code: 'unknown_key' });
    expectFirstProblem(await verifyExport(lines, keysOf(keyB)), { line: 1, seq: 1, code: 'unknown_key' });
  });

  it('the trailer must be signed by a known key too', async () => {
    const mixed = sealChain(5, keyA, { trailerKey: keyB });
    expect(await verifyExport(jsonlLines(mixed), keysOf(keyA, keyB))).toMatchObject({ ok: true });
    expectFirstProblem(await verifyExport(jsonlLines(mixed), keysOf(keyA)), { line: 6, code: 'unknown_key' });
  });
});

describe('sealing refuses bugs', () => {
  const base = { seq: 1, prevHash: GENESIS_HASH, at: new Date('2025-01-01T00:00:00Z'), key: keyA };

  it('an event that does not match ArtifactEventSchema', () => {
    expect(() => sealArtifact({ ...base, event: { ...voteEvent(1), decision: 'maybe' } as never })).toThrow(/event\.decision/);
    expect(() => sealArtifact({ ...base, event: { ...voteEvent(1), extra: 1 } as never })).toThrow(/cannot seal/);
  });

  it('a bad seq, prevHash or date', () => {
    expect(() => sealArtifact({ ...base, seq: 0, event: voteEvent(1) })).toThrow(/seq/);
    expect(() => sealArtifact({ ...base, prevHash: 'abc', event: voteEvent(1) })).toThrow(/prevHash/);
    expect(() => sealArtifact({ ...base, at: new Date('nope'), event: voteEvent(1) })).toThrow(/date/);
  });

  it('a trailer with inconsistent counts', () => {
    expect(() => sealTrailer({ records: 2, firstSeq: null, lastSeq: null, lastHash: null, from: null, to: null, exportedAt: new Date(), key: keyA })).toThrow(/trailer/);
  });
});
