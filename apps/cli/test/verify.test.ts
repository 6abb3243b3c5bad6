import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GENESIS_HASH, type SealedArtifact } from '@countersign/contracts';
import {
  artifactToCsvRow,
  exportCsvHeader,
  loadKeyring,
  sealArtifact,
  sealTrailer,
  sha256Hex,
  trailerToCsvRow,
  type SigningKey,
} from '@countersign/evidence';
import { run as verify } from '../src/commands/verify.ts';
import { run as signingKey } from '../src/commands/signing-key.ts';

let dir = '';
const keyDir = () => join(dir, 'keys');

type Run = typeof verify;
async function cli(command: Run, args: string[], opts: { env?: NodeJS.ProcessEnv; stdin?: Readable } = {}) {
  let out = '';
  let err = '';
  const sink = (append: (s: string) => void) => ({ write: (chunk: string | Uint8Array) => (append(chunk.toString()), true) }) as unknown as NodeJS.WritableStream;
  const code = await command(args, {
    stdout: sink((s) => (out += s)),
    stderr: sink((s) => (err += s)),
    env: opts.env ?? {},
    cwd: dir,
    ...(opts.stdin ? { stdin: opts.stdin } : {}),
  });
  return { code, out, err };
}

/** Seal records the way the DB layer does and write an export as the export endpoint does. */
function sealRecords(key: SigningKey, from: { seq: number; prevHash: string }, n: number): SealedArtifact[] {
  const out: SealedArtifact[] = [];
  let prevHash = from.prevHash;
  for (let i = 0; i < n; i++) {
    const seq = from.seq + i;
    const event = { kind: 'config.changed' as const, file: 'policy' as const, digest: sha256Hex(`policy v${seq}`), previousDigest: null };
    const a = sealArtifact({ seq, prevHash, at: new Date(Date.UTC(2025, 0, 1, 0, 0, seq)), event, key });
    out.push(a);
    prevHash = a.hash;
  }
  return out;
}

function exportText(records: SealedArtifact[], key: SigningKey, format: 'jsonl' | 'csv' = 'jsonl'): string {
  const last = records.at(-1);
  const trailer = sealTrailer({
    records: records.length, firstSeq: records[0]?.seq ?? null, lastSeq: last?.seq ?? null, lastHash: last?.hash ?? null,
    from: null, to: null, exportedAt: new Date('2025-02-01T00:00:00Z'), key,
  });
  if (format === 'csv') return [exportCsvHeader(), ...records.map(artifactToCsvRow), trailerToCsvRow(trailer)].join('\r\n') + '\r\n';
  return [...records.map((r) => JSON.stringify(r)), JSON.stringify(trailer)].join('\n') + '\n';
}

let records: SealedArtifact[] = [];
let firstKey: SigningKey;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'countersign-cli-verify-'));
  const rotated = await cli(signingKey, ['rotate', '--dir', 'keys']);
  expect(rotated.code).toBe(0);
  firstKey = loadKeyring({ dir: keyDir(), create: false }).active;
  expect(rotated.out).toContain(`active signing key is now ${firstKey.keyId}`);
  const pub = await cli(signingKey, ['public', '--dir', 'keys']);
  expect(pub.code).toBe(0);
  expect(pub.out).toMatch(/^-----BEGIN PUBLIC KEY-----\n[\s\S]+-----END PUBLIC KEY-----\n$/);
  writeFileSync(join(dir, 'pub.pem'), pub.out);
  records = sealRecords(firstKey, { seq: 1, prevHash: GENESIS_HASH }, 5);
  writeFileSync(join(dir, 'export.jsonl'), exportText(records, firstKey));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('countersign verify', () => {
  it('exits 0 and summarises a good export', async () => {
    const { code, out, err } = await cli(verify, ['export.jsonl', '--key', 'pub.pem']);
    expect(err).toBe('');
    expect(out).toBe(`OK: 5 records, seq 1..5, last hash ${records[4]!.hash}\n`);
    expect(code).toBe(0);
  });

  it('exits 1 and names the first bad record', async () => {
    const lines = readFileSync(join(dir, 'export.jsonl'), 'utf8').split('\n');
    const original = lines[2]!;
    lines[2] = original.replace(/"digest\\":\\"[0-9a-f]{6}/, '"digest\\":\\"ffffff');
    expect(lines[2]).not.toBe(original);
    writeFileSync(join(dir, 'tampered.jsonl'), lines.join('\n'));
    const { code, out } = await cli(verify, ['tampered.jsonl', '--key', 'pub.pem']);
    expect(out).toMatch(/^FAILED: line 3, seq 3: hash_mismatch: /);
    expect(out).toContain('2 records before it verified');
    expect(code).toBe(1);
  });

  it('exits 1 on a truncated export', async () => {
    const lines = readFileSync(join(dir, 'export.jsonl'), 'utf8').split('\n').slice(0, 3);
    writeFileSync(join(dir, 'cut.jsonl'), lines.join('\n'));
    const { code, out } = await cli(verify, ['cut.jsonl', '--key', 'pub.pem']);
    expect(out).toMatch(/^FAILED: line 4: truncated: /);
    expect(code).toBe(1);
    const lenient = await cli(verify, ['cut.jsonl', '--key', 'pub.pem', '--allow-no-trailer']);
    expect(lenient.code).toBe(0);
    expect(lenient.out).toContain('note: no trailer');
  });

  it('exits 1 with the wrong public key', async () => {
    const other = await cli(signingKey, ['rotate', '--dir', 'other-keys']);
    expect(other.code).toBe(0);
    writeFileSync(join(dir, 'other.pem'), (await cli(signingKey, ['public', '--dir', 'other-keys'])).out);
    const { code, out } = await cli(verify, ['export.jsonl', '--key', 'other.pem']);
    expect(out).toMatch(/^FAILED: line 1, seq 1: unknown_key: /);
    expect(code).toBe(1);
  });

  it('exits 2 on usage and key errors', async () => {
    expect((await cli(verify, [])).code).toBe(2);
    expect((await cli(verify, ['export.jsonl'])).err).toMatch(/--key is required/);
    expect((await cli(verify, ['export.jsonl', '--key', 'pub.pem', '--bogus'])).code).toBe(2);
    const missing = await cli(verify, ['nope.jsonl', '--key', 'pub.pem']);
    expect(missing).toMatchObject({ code: 2, out: '' });
    expect(missing.err).toMatch(/cannot read nope\.jsonl: ENOENT/);
    const badKey = await cli(verify, ['export.jsonl', '--key', 'export.jsonl']);
    expect(badKey.code).toBe(2);
    expect(badKey.out).toBe('');
  });

  it('reads stdin with "-" and CSV exports', async () => {
    const stdin = Readable.from([Buffer.from(readFileSync(join(dir, 'export.jsonl')))]);
    expect((await cli(verify, ['-', '--key', 'pub.pem'], { stdin })).code).toBe(0);
    writeFileSync(join(dir, 'export.csv'), exportText(records, firstKey, 'csv'));
    const csv = await cli(verify, ['export.csv', '--key', 'pub.pem']);
    expect(csv.out).toMatch(/^OK: 5 records/);
    expect(csv.out).not.toMatch(/formula/);
    expect(csv.code).toBe(0);
  });

  it('warns when a CSV row has a cell a spreadsheet would run as a formula (the records still verify)', async () => {
    // A spreadsheet's own column (an annotation, never checked) holding formulas in two rows.
    const rows = exportText(records, firstKey, 'csv').split('\r\n');
    const edited = rows.map((row, i) => (row === '' ? row : `${row},${i === 0 ? 'note' : i === 2 ? '=1+1' : i === 4 ? ' @SUM(1)' : ''}`));
    writeFileSync(join(dir, 'formulas.csv'), edited.join('\r\n'));
    const result = await cli(verify, ['formulas.csv', '--key', 'pub.pem']);
    expect(result.code).toBe(0);
    expect(result.out).toMatch(/^OK: 5 records/);
    expect(result.out).toMatch(/warning: 2 rows have \(the header counts as a row\) a cell a spreadsheet may run as a formula/);
    // A column whose name would run (added by hand: no export writes one): the header counts.
    const named = rows.map((row, i) => (row === '' ? row : `${row},${i === 0 ? '=1+1' : ''}`));
    writeFileSync(join(dir, 'formula-header.csv'), named.join('\r\n'));
    const header = await cli(verify, ['formula-header.csv', '--key', 'pub.pem']);
    expect(header.code).toBe(0);
    expect(header.out).toMatch(/^OK: 5 records/);
    expect(header.out).toMatch(/warning: 1 row has \(the header counts as a row\) a cell a spreadsheet may run as a formula/);
  });

  it('refuses a signed column renamed to pass for itself, and names the columns it ignored', async () => {
    const rows = exportText(records, firstKey, 'csv').split('\r\n');
    const header = rows[0]!.split(',');
    const at = header.indexOf('decision');
    // "decision" with a zero-width space: an unchecked column a person reads as the checked one.
    const renamed = [header.map((name, i) => (i === at ? 'deci\u200bsion' : name)).join(','), ...rows.slice(1)];
    writeFileSync(join(dir, 'renamed.csv'), renamed.join('\r\n'));
    const refused = await cli(verify, ['renamed.csv', '--key', 'pub.pem']);
    expect(refused.code).toBe(1);
    expect(refused.out).toBe('FAILED: line 1: invalid_csv: column "deci\\u200bsion" looks like "decision" but is spelled differently: a renamed column would go unchecked\n');
    // Columns someone added verify, and are named (escaped) as covered by no signature.
    const added = rows.map((row, i) => (row === '' ? row : `${row},${i === 0 ? 'reviewed by,Entscheidung \u2713' : ','}`));
    writeFileSync(join(dir, 'added.csv'), added.join('\r\n'));
    const noted = await cli(verify, ['added.csv', '--key', 'pub.pem']);
    expect(noted.code).toBe(0);
    expect(noted.out).toMatch(/^OK: 5 records/);
    expect(noted.out).toContain(`warning: 2 columns not written by the export, covered by no signature (their cells may say anything; only the export's own columns are evidence): "reviewed by", "Entscheidung \\u2713"\n`);
    // The export as written adds none.
    writeFileSync(join(dir, 'plain.csv'), rows.join('\r\n'));
    expect((await cli(verify, ['plain.csv', '--key', 'pub.pem'])).out).not.toMatch(/not written by the export/);
  });

  it('takes keys from a JWKS file and from a JWKS URL', async () => {
    const jwks = await cli(signingKey, ['public', '--dir', 'keys', '--jwks']);
    writeFileSync(join(dir, 'jwks.json'), jwks.out);
    expect((await cli(verify, ['export.jsonl', '--key', 'jwks.json'])).code).toBe(0);

    const server: Server = createServer((req, res) => {
      if (req.url === '/.well-known/jwks.json') res.writeHead(200, { 'content-type': 'application/json' }).end(jwks.out);
      else res.writeHead(404).end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      expect((await cli(verify, ['export.jsonl', '--key', `${base}/.well-known/jwks.json`])).code).toBe(0);
      const notFound = await cli(verify, ['export.jsonl', '--key', `${base}/missing`]);
      expect(notFound.code).toBe(2);
      expect(notFound.err).toContain('HTTP 404');
    } finally {
      await new Promise((r) => server.close(r));
    }
  });

  it('after rotation, verifies with both keys and fails with only the old one', async () => {
    const rotated = await cli(signingKey, ['rotate', '--dir', 'keys']);
    expect(rotated.out).toContain(`(was ${firstKey.keyId}, kept for verification)`);
    const ring = loadKeyring({ dir: keyDir(), create: false });
    expect(ring.active.keyId).not.toBe(firstKey.keyId);
    const more = sealRecords(ring.active, { seq: 6, prevHash: records[4]!.hash }, 3);
    writeFileSync(join(dir, 'rotated.jsonl'), exportText([...records, ...more], ring.active));

    const oldOnly = await cli(verify, ['rotated.jsonl', '--key', 'pub.pem']);
    expect(oldOnly.out).toMatch(/^FAILED: line 6, seq 6: unknown_key: /);
    expect(oldOnly.code).toBe(1);

    writeFileSync(join(dir, 'new.pem'), (await cli(signingKey, ['public', '--dir', 'keys'])).out);
    expect((await cli(verify, ['rotated.jsonl', '--key', 'pub.pem', '--key', 'new.pem'])).code).toBe(0);
    const all = await cli(signingKey, ['public', '--dir', 'keys', '--all']);
    expect(all.out.match(/BEGIN PUBLIC KEY/g)).toHaveLength(2);
    writeFileSync(join(dir, 'all.pem'), all.out);
    const both = await cli(verify, ['rotated.jsonl', '--key', 'all.pem']);
    expect(both.out).toBe(`OK: 8 records, seq 1..8, last hash ${more[2]!.hash}\n`);
  });
});

describe('countersign signing-key', () => {
  it('refuses to print a key that does not exist, and to rotate keys held in the environment', async () => {
    const none = await cli(signingKey, ['public', '--dir', 'no-such-dir']);
    expect(none.code).toBe(1);
    expect(none.err).toMatch(/no signing key/);
    const env = await cli(signingKey, ['rotate'], { env: { COUNTERSIGN_SIGNING_KEY: '-----BEGIN PRIVATE KEY-----…' } });
    expect(env.code).toBe(2);
    expect(env.err).toMatch(/put it FIRST/);
    expect((await cli(signingKey, ['spin'])).code).toBe(2);
  });

  it('public reads COUNTERSIGN_SIGNING_KEY like the server', async () => {
    const pem = readFileSync(join(keyDir(), `${firstKey.keyId}.pem`), 'utf8');
    const { code, out } = await cli(signingKey, ['public'], { env: { COUNTERSIGN_SIGNING_KEY: pem } });
    expect(code).toBe(0);
    expect(out).toBe(readFileSync(join(dir, 'pub.pem'), 'utf8'));
  });
});
