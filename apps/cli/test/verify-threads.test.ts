import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GENESIS_HASH, type SealedArtifact } from '@countersign/contracts';
import { generateSigningKey, publicKeyPem, sealArtifact, sealTrailer, sha256Hex, type SigningKey } from '@countersign/evidence';
import { run as verify } from '../src/commands/verify.ts';

// `countersign verify` with --threads: the same output and exit status whatever the thread
// count, and a bad --threads is a usage error. (Threads start past 20,000 lines; that they give
// the same reports is tested in packages/evidence/test/verify-parallel.test.ts.)

let dir = '';
const key: SigningKey = generateSigningKey();
const RECORDS = 2_500;

async function cli(args: string[]) {
  let out = '';
  let err = '';
  const sink = (append: (s: string) => void) => ({ write: (chunk: string | Uint8Array) => (append(chunk.toString()), true) }) as unknown as NodeJS.WritableStream;
  const code = await verify(args, { stdout: sink((s) => (out += s)), stderr: sink((s) => (err += s)), env: {}, cwd: dir });
  return { code, out, err };
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'countersign-cli-verify-threads-'));
  const records: SealedArtifact[] = [];
  let prevHash = GENESIS_HASH;
  for (let seq = 1; seq <= RECORDS; seq++) {
    const event = { kind: 'config.changed' as const, file: 'policy' as const, digest: sha256Hex(`policy v${seq}`), previousDigest: null };
    const a = sealArtifact({ seq, prevHash, at: new Date(Date.UTC(2025, 0, 1, 0, 0, seq)), event, key });
    records.push(a);
    prevHash = a.hash;
  }
  const last = records.at(-1)!;
  const trailer = sealTrailer({ records: RECORDS, firstSeq: 1, lastSeq: RECORDS, lastHash: last.hash, from: null, to: null, exportedAt: new Date('2025-02-01T00:00:00Z'), key });
  const lines = [...records.map((r) => JSON.stringify(r)), JSON.stringify(trailer)];
  writeFileSync(join(dir, 'export.jsonl'), `${lines.join('\n')}\n`);
  // A record re-sealed onto another predecessor: its own checks pass, only the chain fails.
  const forged = sealArtifact({ seq: 2_222, prevHash: sha256Hex('elsewhere'), at: new Date(Date.UTC(2025, 0, 1, 0, 0, 2_222)), event: JSON.parse(records[2_221]!.canonical).event, key });
  lines[2_221] = JSON.stringify(forged);
  writeFileSync(join(dir, 'forged.jsonl'), `${lines.join('\n')}\n`);
  writeFileSync(join(dir, 'pub.pem'), publicKeyPem(key));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('countersign verify on threads', () => {
  it('verifies an export the same with 2 threads, the default, and none', async () => {
    const alone = await cli(['export.jsonl', '--key', 'pub.pem', '--threads', '0']);
    expect(alone).toMatchObject({ code: 0, err: '' });
    expect(alone.out).toMatch(new RegExp(`^OK: ${RECORDS} records, seq 1\\.\\.${RECORDS}, `));
    expect(await cli(['export.jsonl', '--key', 'pub.pem', '--threads', '2'])).toEqual(alone);
    expect(await cli(['export.jsonl', '--key', 'pub.pem'])).toEqual(alone);
    const json = await cli(['export.jsonl', '--key', 'pub.pem', '--threads', '2', '--json']);
    expect(JSON.parse(json.out)).toEqual(JSON.parse((await cli(['export.jsonl', '--key', 'pub.pem', '--threads', '0', '--json'])).out));
  });

  it('names the same first bad record on threads', async () => {
    const alone = await cli(['forged.jsonl', '--key', 'pub.pem', '--threads', '0']);
    expect(alone.code).toBe(1);
    expect(alone.out).toMatch(/^FAILED: line 2222, seq 2222: chain_broken: .*\(2221 records before it verified, seq 1\.\.2221\)\n$/);
    expect(await cli(['forged.jsonl', '--key', 'pub.pem', '--threads', '2'])).toEqual(alone);
  });

  it('refuses a --threads that is not a whole number', async () => {
    for (const bad of ['-1', 'two', '1.5', '']) {
      const { code, err, out } = await cli(['export.jsonl', '--key', 'pub.pem', `--threads=${bad}`]);
      expect(code).toBe(2);
      expect(out).toBe('');
      expect(err).toMatch(/--threads must be a whole number/);
    }
  });
});
