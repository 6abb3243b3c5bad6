import { pathToFileURL } from 'node:url';
import { generateSigningKey, verifyExport } from '../src/index.ts';
import { jsonlLines, sealChain } from '../test/factories.ts';

/**
 * Verification throughput over an in-memory JSONL export. Sealing is not timed: the point is
 * how fast an auditor (or `countersign verify`) gets through a large export.
 */
export async function benchVerify(
  n = 100_000,
): Promise<{ records: number; seconds: number; recordsPerSecond: number; cpuMicrosPerRecord: number }> {
  const key = generateSigningKey();
  const lines = jsonlLines(sealChain(n, key));
  const keys = new Map([[key.keyId, key.publicKey]]);
  const started = process.hrtime.bigint();
  const cpu = process.cpuUsage();
  const report = await verifyExport(lines, keys);
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  // CPU time over all threads: shows whether a slow run was this code or a busy machine.
  const { user, system } = process.cpuUsage(cpu);
  if (!report.ok || report.records !== n) throw new Error(`benchmark export did not verify: ${JSON.stringify(report.problems)}`);
  return { records: n, seconds, recordsPerSecond: Math.round(n / seconds), cpuMicrosPerRecord: Math.round((user + system) / n) };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const n = process.argv[2] ? Number(process.argv[2]) : undefined;
  console.log(await benchVerify(n));
}
