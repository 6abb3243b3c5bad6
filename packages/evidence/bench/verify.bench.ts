import { availableParallelism } from 'node:os';
import { pathToFileURL } from 'node:url';
import { generateSigningKey, verifyExport, verifyExportOnOneThread, verifyExportParallel, VerifyThreads, type VerifyReport } from '../src/index.ts';
import { jsonlLines, sealChain } from '../test/factories.ts';

/** One way of verifying, timed over the whole export. */
export interface VerifyRun {
  recordsPerSecond: number;
  seconds: number;
  /** CPU time of every thread of the process, per record. */
  cpuMicrosPerRecord: number;
}

export interface VerifyBench {
  records: number;
  /** The parallel run's figures (what `countersign verify` does), as before under these names. */
  seconds: number;
  recordsPerSecond: number;
  cpuMicrosPerRecord: number;
  /** Everything on one thread: parsing, hashing and signatures (`verifyExportOnOneThread`). */
  single: VerifyRun;
  /**
   * `verifyExportParallel` starting its own `threads` verifying threads, as `countersign verify`
   * does: thread start-up (and, from TypeScript sources, each thread's tsx loader) included.
   */
  parallel: VerifyRun & { threads: number; recordsPerCorePerSecond: number };
  /** The same on threads started and warmed beforehand: how verification scales, start-up aside. */
  parallelThreadsUp: VerifyRun & { recordsPerCorePerSecond: number };
  /** `verifyExport`: lines on the calling thread, signatures on the libuv pool (the verifier before threads). */
  callingThreadAndLibuv: VerifyRun;
  /** From starting the threads to all of them listening. */
  threadStartMs: number;
  parallelOverSingle: number;
  parallelThreadsUpOverSingle: number;
  parallelOverCallingThreadAndLibuv: number;
  /** Each way ran this many times, interleaved; the figures are each way's best run. */
  rounds: number;
}

/**
 * Verification throughput over an in-memory JSONL export, several ways on the same chain in
 * the same run: one thread, worker threads (started by the call, and already up), and the
 * calling thread with the libuv pool. Sealing is not timed: the point is how fast an auditor (or
 * `countersign verify`) gets through a large export. Other work on the machine slows any run,
 * so each way runs `rounds` times, interleaved, and its best run counts.
 */
export async function benchVerify(n = 100_000, opts: { threads?: number; rounds?: number } = {}): Promise<VerifyBench> {
  const threads = opts.threads ?? availableParallelism();
  const rounds = Math.max(1, opts.rounds ?? 2);
  const key = generateSigningKey();
  const lines = jsonlLines(sealChain(n, key));
  const keys = new Map([[key.keyId, key.publicKey]]);

  const startedAt = process.hrtime.bigint();
  const up = new VerifyThreads(threads);
  await up.ready;
  const threadStartMs = Math.round(Number(process.hrtime.bigint() - startedAt) / 1e6);
  try {
    // Warm the threads' compiled code, as the calling thread's is by the runs before.
    await verifyExportParallel(lines.slice(0, Math.min(n, 20_000)), keys, { threads: up, requireTrailer: false });
    const ways = {
      single: () => verifyExportOnOneThread(lines, keys),
      parallel: () => verifyExportParallel(lines, keys, { threads }),
      // From the first line: these threads are up, so the threshold that spares a run starting
      // its own threads for a short export does not apply.
      parallelThreadsUp: () => verifyExportParallel(lines, keys, { threads: up, minLinesForThreads: 0 }),
      callingThreadAndLibuv: () => verifyExport(lines, keys),
    };
    const best: Partial<Record<keyof typeof ways, VerifyRun>> = {};
    let expected: string | null = null;
    for (let round = 0; round < rounds; round++) {
      for (const [name, verify] of Object.entries(ways) as Array<[keyof typeof ways, () => Promise<VerifyReport>]>) {
        const { run, report } = await timed(n, verify);
        if (!report.ok || report.records !== n) throw new Error(`benchmark export did not verify (${name}): ${JSON.stringify(report.problems)}`);
        // Every way must give the same report; a faster way that differs would be no result.
        const text = JSON.stringify(report);
        expected ??= text;
        if (text !== expected) throw new Error(`verifying ${name} gave a different report`);
        if (!best[name] || run.recordsPerSecond > best[name].recordsPerSecond) best[name] = run;
      }
    }
    const single = best.single!;
    const parallel = best.parallel!;
    const threadsUp = best.parallelThreadsUp!;
    const libuv = best.callingThreadAndLibuv!;
    return {
      records: n,
      seconds: parallel.seconds,
      recordsPerSecond: parallel.recordsPerSecond,
      cpuMicrosPerRecord: parallel.cpuMicrosPerRecord,
      single,
      parallel: { threads, ...parallel, recordsPerCorePerSecond: Math.round(parallel.recordsPerSecond / threads) },
      parallelThreadsUp: { ...threadsUp, recordsPerCorePerSecond: Math.round(threadsUp.recordsPerSecond / threads) },
      callingThreadAndLibuv: libuv,
      threadStartMs,
      parallelOverSingle: round2(parallel.recordsPerSecond / single.recordsPerSecond),
      parallelThreadsUpOverSingle: round2(threadsUp.recordsPerSecond / single.recordsPerSecond),
      parallelOverCallingThreadAndLibuv: round2(parallel.recordsPerSecond / libuv.recordsPerSecond),
      rounds,
    };
  } finally {
    await up.close();
  }
}

async function timed(n: number, verify: () => Promise<VerifyReport>): Promise<{ run: VerifyRun; report: VerifyReport }> {
  const started = process.hrtime.bigint();
  const cpu = process.cpuUsage();
  const report = await verify();
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  // CPU time over all threads: shows whether a slow run was this code or a busy machine.
  const { user, system } = process.cpuUsage(cpu);
  return { run: { recordsPerSecond: Math.round(n / seconds), seconds: round2(seconds), cpuMicrosPerRecord: Math.round((user + system) / n) }, report };
}

const round2 = (x: number): number => Math.round(x * 100) / 100;

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const n = process.argv[2] ? Number(process.argv[2]) : undefined;
  const rounds = process.argv[3] ? Number(process.argv[3]) : undefined;
  console.log(await benchVerify(n, rounds === undefined ? {} : { rounds }));
}
