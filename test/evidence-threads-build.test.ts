import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildProduction } from '../infra/build/build.mjs';

// Verification threads from the production build: `npm run build` compiles the thread module
// (packages/evidence/src/verify-worker.ts → .js, reached because the pool imports its address),
// and plain `node`, no TypeScript loader, starts threads on the compiled file and gets the same
// report as verifying on one thread.

const run = promisify(execFile);
const ROOT = path.resolve(import.meta.dirname, '..');
const out = path.join(ROOT, 'dist', `.test-evidence-${process.pid}-${randomBytes(4).toString('hex')}`);

beforeAll(async () => {
  await buildProduction({ outDir: out, log: () => undefined });
}, 300_000);

afterAll(() => {
  fs.rmSync(out, { recursive: true, force: true });
  const dist = path.dirname(out);
  if (fs.existsSync(dist) && fs.readdirSync(dist).length === 0) fs.rmdirSync(dist);
});

// Runs in the build's folder, so '@countersign/*' resolve to the built packages.
const SCRIPT = `
import { GENESIS_HASH } from '@countersign/contracts';
import { ed25519Backend, generateSigningKey, sealArtifact, sealTrailer, verifyExport, verifyExportParallel, VerifyThreads } from '@countersign/evidence';
import { VERIFY_WORKER_URL } from './packages/evidence/src/verify-worker.js';

const key = generateSigningKey();
const lines = [];
let prevHash = GENESIS_HASH;
let last;
for (let seq = 1; seq <= 300; seq++) {
  last = sealArtifact({ seq, prevHash, at: new Date(Date.UTC(2025, 0, 1, 0, 0, seq)), event: { kind: 'config.changed', file: 'policy', digest: 'a'.repeat(64), previousDigest: null }, key });
  lines.push(JSON.stringify(last));
  prevHash = last.hash;
}
lines.push(JSON.stringify(sealTrailer({ records: 300, firstSeq: 1, lastSeq: 300, lastHash: last.hash, from: null, to: null, exportedAt: new Date(), key })));
const tampered = [...lines];
tampered[150] = tampered[150].replace('"prevHash":"', '"prevHash":"0');
const keys = new Map([[key.keyId, key.publicKey]]);
const threads = new VerifyThreads(2);
const result = { module: VERIFY_WORKER_URL, reports: [] };
try {
  await threads.ready;
  for (const export_ of [lines, tampered]) {
    result.reports.push({
      parallel: await verifyExportParallel(export_, keys, { threads, minLinesForThreads: 0, batchLines: 16 }),
      single: await verifyExport(export_, keys),
    });
  }
  result.batches = threads.examinedBatches;
  result.ed25519 = ed25519Backend();
} finally {
  await threads.close();
}
result.exitCodes = threads.exitCodes;
process.stdout.write(JSON.stringify(result));
`;

describe('verification threads in the production build', () => {
  it('start on the compiled thread module under plain node and give the one-thread report', async () => {
    const script = path.join(out, 'verify-threads-check.mjs');
    fs.writeFileSync(script, SCRIPT);
    // Killed if it has not ended in time, never left running after the test: a CI run once left
    // this child hanging at exit when the threads were terminated rather than asked to stop.
    const { stdout } = await run(process.execPath, [script], { cwd: out, env: { PATH: process.env.PATH ?? '' }, timeout: 100_000, killSignal: 'SIGKILL' });
    const result = JSON.parse(stdout) as { module: string; batches: number[]; exitCodes: number[]; ed25519: unknown; reports: Array<{ parallel: unknown; single: unknown }> };
    expect(result.module).toBe(`file://${path.join(out, 'packages/evidence/src/verify-worker.js')}`);
    expect(result.batches).toHaveLength(2);
    expect(result.batches.every((n) => n > 0)).toBe(true);
    // Both threads ended on their own when closed (exit code 0), neither was terminated.
    expect(result.exitCodes).toEqual([0, 0]);
    // The compiled code signs through libsodium (ed25519.ts): its addon loads from a build.
    expect(result.ed25519).toBe('libsodium');
    const [good, tampered] = result.reports;
    expect(good!.parallel).toEqual(good!.single);
    expect(good!.parallel).toMatchObject({ ok: true, records: 300 });
    expect(tampered!.parallel).toEqual(tampered!.single);
    expect(tampered!.parallel).toMatchObject({ ok: false, problems: [{ line: 151, seq: 151 }] });
  }, 120_000);
});
