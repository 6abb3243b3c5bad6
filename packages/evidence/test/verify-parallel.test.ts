import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { availableParallelism } from 'node:os';
import {
  generateSigningKey,
  maxVerifyThreads,
  MIN_LINES_FOR_THREADS,
  verifyExport,
  verifyExportOnOneThread,
  verifyExportParallel,
  VerifyThreadError,
  VerifyThreads,
  type VerifyReport,
} from '../src/index.ts';
import { jsonlLines, sealChain } from './factories.ts';
import { exportCases } from './tampered-exports.ts';

// Verifying on worker threads must give exactly the report verifying on one thread gives: the
// same verdict, the same first problem (line, seq, code, message), the same counts. Small
// batches spread even these small exports over every thread, with problems on both sides of
// batch boundaries.

const cases = exportCases(300);

async function* streamOf(lines: readonly string[]): AsyncIterable<string> {
  for (const line of lines) yield line;
}
const THREAD_COUNTS = [1, 2, 3] as const;
const threads = new Map<number, VerifyThreads>();

// Started once and awaited, so that every run below is examined on threads from its first line.
beforeAll(async () => {
  for (const n of THREAD_COUNTS) threads.set(n, new VerifyThreads(n));
  await Promise.all([...threads.values()].map((t) => t.ready));
});
afterAll(async () => {
  for (const t of threads.values()) await t.close();
});

describe('verifying on threads gives the one-thread report', () => {
  it.each(cases.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    const expected = await verifyExport(c.lines, c.keys, c.opts);
    expect(await verifyExportOnOneThread(c.lines, c.keys, c.opts), 'one thread').toEqual(expected);
    expect(await verifyExportParallel(c.lines, c.keys, { ...c.opts, threads: 0 }), 'no verifying threads').toEqual(expected);
    for (const n of THREAD_COUNTS) {
      const report = await verifyExportParallel(c.lines, c.keys, { ...c.opts, threads: threads.get(n)!, minLinesForThreads: 0, batchLines: 16 });
      expect(report, `${n} threads`).toEqual(expected);
    }
    // The first 99 lines on this thread, the rest on threads.
    const switched = await verifyExportParallel(c.lines, c.keys, { ...c.opts, threads: threads.get(2)!, minLinesForThreads: 100, batchLines: 16 });
    expect(switched, 'switching to threads at line 100').toEqual(expected);
    // An array is read without awaiting each line, a stream (a file) line by line: both read
    // past a stop the same way (to find a selection's trailer after a gap).
    expect(await verifyExport(streamOf(c.lines), c.keys, c.opts), 'streamed').toEqual(expected);
    expect(await verifyExportOnOneThread(streamOf(c.lines), c.keys, c.opts), 'streamed, one thread').toEqual(expected);
    const streamedOnThreads = await verifyExportParallel(streamOf(c.lines), c.keys, { ...c.opts, threads: threads.get(2)!, minLinesForThreads: 0, batchLines: 16 });
    expect(streamedOnThreads, 'streamed, 2 threads').toEqual(expected);
  });

  it('a source that is both kinds is read through its asynchronous side, as before arrays were read without awaiting', async () => {
    const good = cases.find((c) => c.name.startsWith('good'))!;
    const both = { [Symbol.asyncIterator]: () => streamOf(good.lines)[Symbol.asyncIterator](), [Symbol.iterator]: () => ['garbage'][Symbol.iterator]() };
    for (const verify of [verifyExport, verifyExportOnOneThread]) expect((await verify(both, good.keys, good.opts)).ok).toBe(true);
    expect((await verifyExportParallel(both, good.keys, { ...good.opts, threads: threads.get(2)!, minLinesForThreads: 0, batchLines: 16 })).ok).toBe(true);
  });

  it('the cases are what they say: good ones verify, tampered ones fail where they were tampered with', async () => {
    const byName = new Map(cases.map((c) => [c.name, c]));
    const reportOf = async (name: string): Promise<VerifyReport> => {
      const c = byName.get(name)!;
      return verifyExportParallel(c.lines, c.keys, { ...c.opts, threads: threads.get(2)!, minLinesForThreads: 0, batchLines: 16 });
    };
    for (const c of cases.filter((c) => c.name.startsWith('good'))) expect((await reportOf(c.name)).ok, c.name).toBe(true);
    expect((await reportOf('bad signature in the middle')).problems).toMatchObject([{ line: 150, seq: 150, code: 'bad_signature' }]);
    expect((await reportOf('broken link (a validly signed record hung elsewhere)')).problems).toMatchObject([{ line: 150, seq: 150, code: 'chain_broken' }]);
    expect((await reportOf('reordered: two swapped records')).problems).toMatchObject([{ line: 151, seq: 152, code: 'seq_gap' }]);
    expect((await reportOf('duplicated record')).problems).toMatchObject([{ line: 151, seq: 150, code: 'seq_order' }]);
    expect((await reportOf('retired-key forgery: the old key signs after its rotation')).problems).toMatchObject([{ line: 170, seq: 170, code: 'retired_key' }]);
    expect((await reportOf('truncated: trailer and tail dropped')).problems).toMatchObject([{ line: 151, code: 'truncated' }]);
    // Stopped after a gap, reading goes on to the trailer: a selection's gap is by design, so the
    // bad signature is the problem; in a full export the gap comes first.
    expect((await reportOf('selection with a bad signature after a gap')).problems).toMatchObject([{ line: 150, seq: 199, code: 'bad_signature' }]);
    expect((await reportOf('selection with a hash mismatch after a gap')).problems).toMatchObject([{ line: 150, seq: 199, code: 'hash_mismatch' }]);
    const hashAfterGap = byName.get('selection with a hash mismatch after a gap')!;
    for (const lines of [hashAfterGap.lines, streamOf(hashAfterGap.lines)]) {
      expect((await verifyExport(lines, hashAfterGap.keys, hashAfterGap.opts)).problems).toMatchObject([{ line: 150, seq: 199, code: 'hash_mismatch' }]);
    }
    expect((await reportOf('deleted record, then a bad signature')).problems).toMatchObject([{ line: 41, seq: 42, code: 'seq_gap' }]);
    expect((await reportOf('CSV with a bad signature in the middle')).problems).toMatchObject([{ seq: 150, code: 'bad_signature' }]);
    expect((await reportOf('canonical nested too deeply to check')).problems).toMatchObject([{ line: 150, seq: 150, code: 'not_canonical', message: 'canonical is nested too deeply to check' }]);
    expect((await reportOf('a too deeply nested record after the trailer')).problems).toMatchObject([{ line: 302, code: 'after_trailer' }]);
    expect((await reportOf('trailer canonical nested too deeply to check')).problems).toMatchObject([{ line: 301, code: 'trailer_invalid' }]);
    // zod's own English message, from a thread that loads only the artifact schema (zod/mini
    // has no language of its own: without one given, a thread would say "Invalid input").
    expect((await reportOf('signed event with a field the schema refuses')).problems).toMatchObject([
      { line: 150, seq: 150, code: 'invalid_body', message: 'event.intentHash: Too small: expected string to have exactly 64 characters' },
    ]);
    expect((await reportOf('signed event of an unknown kind')).problems).toMatchObject([{ line: 151, seq: 151, code: 'invalid_body', message: expect.stringMatching(/^event\.kind: Invalid discriminator value\. Expected 'action\.escalated' \| 'vote\.recorded'/) }]);
    expect(threads.get(2)!.examinedBatches.every((n) => n > 0)).toBe(true);
  });
});

describe('threads for large exports only', () => {
  const key = generateSigningKey();
  const keys = new Map([[key.keyId, key.publicKey]]);
  const chain = jsonlLines(sealChain(2_100, key));

  it('verifies an export on threads it starts and stops, with the default batches', async () => {
    // Lines are checked on this thread until the threads are up, then on them: same report.
    const tampered = [...chain];
    const record = JSON.parse(tampered[1_999]!) as { signature: string };
    const signature = Buffer.from(record.signature, 'base64');
    signature[3]! ^= 0x10;
    tampered[1_999] = JSON.stringify({ ...record, signature: signature.toString('base64') });
    for (const lines of [chain, tampered]) {
      const expected = await verifyExport(lines, keys);
      expect(await verifyExportParallel(lines, keys, { threads: 2, minLinesForThreads: 2_000 })).toEqual(expected);
    }
    expect((await verifyExport(tampered, keys)).problems).toMatchObject([{ line: 2_000, code: 'bad_signature' }]);
  });

  it('verifies an export under the threshold on the calling thread: closed threads are never asked', async () => {
    const closed = new VerifyThreads(1);
    await closed.close();
    const small = jsonlLines(sealChain(30, key));
    expect(MIN_LINES_FOR_THREADS).toBe(20_000);
    expect(await verifyExportParallel(small, keys, { threads: closed })).toEqual(await verifyExport(small, keys));
    expect(await verifyExportParallel(chain, keys, { threads: closed })).toEqual(await verifyExport(chain, keys));
    await expect(verifyExportParallel(small, keys, { threads: closed, minLinesForThreads: 0 })).rejects.toBeInstanceOf(VerifyThreadError);
  });
});

describe('how many threads', () => {
  const key = generateSigningKey();
  const keys = new Map([[key.keyId, key.publicKey]]);
  const lines = jsonlLines(sealChain(300, key));

  it('at most four per core: Infinity or 9,999 start that many, never more (each thread has its own heap)', async () => {
    expect(maxVerifyThreads()).toBe(4 * availableParallelism());
    for (const asked of [Infinity, 9_999]) {
      const up = new VerifyThreads(asked);
      try {
        expect(up.size).toBe(maxVerifyThreads());
        await up.ready;
        expect(await verifyExportParallel(lines, keys, { threads: up, minLinesForThreads: 0 })).toEqual(await verifyExport(lines, keys));
        expect(up.examinedBatches).toHaveLength(maxVerifyThreads());
      } finally {
        await up.close();
      }
    }
    // Started by the run itself: Infinity used to throw from inside thread start-up.
    expect(await verifyExportParallel(lines, keys, { threads: Infinity, expectedLines: 1e6 })).toEqual(await verifyExport(lines, keys));
    const nan = new VerifyThreads(Number.NaN);
    expect(nan.size).toBe(1);
    await nan.close();
  }, 60_000);
});

describe('an export known to be long goes to the threads from its first line', () => {
  const key = generateSigningKey();
  const keys = new Map([[key.keyId, key.publicKey]]);
  const lines = jsonlLines(sealChain(200, key));
  async function* streamed(): AsyncIterable<string> {
    yield* lines;
  }
  // Batches the (already running) threads examined during one run: 16 lines each.
  async function batchesFor(run: (t: VerifyThreads) => Promise<VerifyReport>): Promise<number> {
    const t = threads.get(1)!;
    const before = t.examinedBatches.reduce((a, b) => a + b, 0);
    expect(await run(t)).toEqual(await verifyExport(lines, keys));
    return t.examinedBatches.reduce((a, b) => a + b, 0) - before;
  }
  const opts = { minLinesForThreads: 150, batchLines: 16 };

  it('an array of at least the threshold: every line on the threads', async () => {
    expect(await batchesFor((t) => verifyExportParallel(lines, keys, { ...opts, threads: t }))).toBe(Math.ceil(200 / 16));
  });

  it('a stream of unknown length: its head on the calling thread, as before', async () => {
    expect(await batchesFor((t) => verifyExportParallel(streamed(), keys, { ...opts, threads: t }))).toBe(Math.ceil((200 - 149) / 16));
  });

  it('a stream the caller says is long: every line on the threads; said short: its head here', async () => {
    expect(await batchesFor((t) => verifyExportParallel(streamed(), keys, { ...opts, threads: t, expectedLines: 200 }))).toBe(Math.ceil(200 / 16));
    expect(await batchesFor((t) => verifyExportParallel(lines, keys, { ...opts, threads: t, expectedLines: 100 }))).toBe(Math.ceil((200 - 149) / 16));
  });
});

describe('a verifying thread that fails fails the verification, never reports it valid', () => {
  const key = generateSigningKey();
  const keys = new Map([[key.keyId, key.publicKey]]);
  const good = jsonlLines(sealChain(200, key));
  const failing = (query: string) => new VerifyThreads(2, { module: new URL(`./fixtures/failing-verify-thread.ts?${query}`, import.meta.url).href });

  it.each([
    ['ends mid-run', 'fail=exit&after=3', /stopped \(exit code 3\)/],
    ['throws mid-run', 'fail=throw&after=3', /this verifying thread broke/],
    ['answers too few lines', 'fail=short&after=3', /answered 15 lines for 16/],
    ['throws null', 'fail=throw-null&after=3', /a verifying thread failed: null/],
    ['throws a string', 'fail=throw-text&after=3', /a verifying thread failed: broke as text/],
    ['sends an answer that cannot be read', 'fail=garbage&after=3', /unreadable answer/],
  ])('a thread that %s', async (_what, query, message) => {
    const t = failing(query);
    try {
      await t.ready;
      const run = verifyExportParallel(good, keys, { threads: t, minLinesForThreads: 0, batchLines: 16 });
      await expect(run).rejects.toBeInstanceOf(VerifyThreadError);
      await expect(run).rejects.toThrow(message);
      // What a log would carry: the thread's module is named short, not as its whole in-memory
      // bundle (a data: URL of hundreds of kilobytes in every frame).
      const err = (await run.catch((e: unknown) => e)) as VerifyThreadError;
      const logged = `${err.message}\n${err.stack}\n${(err.cause as Error | undefined)?.stack ?? ''}`;
      expect(logged).not.toMatch(/data:text\/javascript/);
      expect(logged.length).toBeLessThan(20_000);
      // The threads stay failed: a later run does not quietly succeed on the ones left.
      await expect(verifyExportParallel(good, keys, { threads: t, minLinesForThreads: 0, batchLines: 16 })).rejects.toBeInstanceOf(VerifyThreadError);
    } finally {
      await t.close();
    }
  });

  it('a thread that cannot start', async () => {
    const t = failing('fail=start');
    try {
      await expect(t.ready).rejects.toThrow(/cannot start/);
      await expect(verifyExportParallel(good, keys, { threads: t, minLinesForThreads: 0 })).rejects.toBeInstanceOf(VerifyThreadError);
    } finally {
      await t.close();
    }
  });

  it('the same fixture verifies when it does not fail (the failures above are the threads\', not the export\'s)', async () => {
    const t = failing('fail=none');
    try {
      await t.ready;
      expect(await verifyExportParallel(good, keys, { threads: t, minLinesForThreads: 0, batchLines: 16 })).toMatchObject({ ok: true, records: 200 });
    } finally {
      await t.close();
    }
  });
});

describe('what is read ahead of judging is bounded in characters, not only in lines', () => {
  const key = generateSigningKey();
  const keys = new Map([[key.keyId, key.publicKey]]);
  // Long bad lines after a few good records: the first bad one ends verification, but only once
  // its batch comes back judged; until then the reader keeps filling batches. Counted in lines
  // alone (64 per batch, 7 batches out on 2 threads) that was 448 lines of 8 KB, 3.6 MB: scaled
  // to 1 MB rows, a hostile file was read hundreds of megabytes ahead (1.2 GB peak for 420 MB).
  const longBad = `{"seq":${'9'.repeat(8_000)}}`;
  const lines = [...jsonlLines(sealChain(10, key)).slice(0, 10), ...Array.from({ length: 600 }, () => longBad)];

  /** Threads that count the characters of the batches out (sent, not yet answered). */
  class CountingThreads extends VerifyThreads {
    out = 0;
    mostOut = 0;
    sent = 0;
    override async examine(...args: Parameters<VerifyThreads['examine']>): ReturnType<VerifyThreads['examine']> {
      const chars = args[3].reduce((n, text) => n + text.length, 0);
      this.out += chars;
      this.sent += chars;
      this.mostOut = Math.max(this.mostOut, this.out);
      try {
        return await super.examine(...args);
      } finally {
        this.out -= chars;
      }
    }
  }

  it('batches close at batchChars: a few batches of characters out, the same report', async () => {
    const expected = await verifyExport(lines, keys);
    expect(expected.problems).toMatchObject([{ line: 11 }]);
    const t = new CountingThreads(2);
    try {
      await t.ready;
      const report = await verifyExportParallel(lines, keys, { threads: t, minLinesForThreads: 0, batchLines: 64, batchChars: 32_000 });
      expect(report).toEqual(expected);
      // 2 threads × 3 batches ahead + the one judged, each closed at 32,000 characters or one
      // line past them.
      expect(t.mostOut).toBeLessThanOrEqual(7 * (32_000 + longBad.length));
      expect(t.sent).toBeLessThanOrEqual(8 * (32_000 + longBad.length));
    } finally {
      await t.close();
    }
  });

  it('the default closes a batch at 1 Mi characters', async () => {
    const huge = `{"seq":${'9'.repeat(300_000)}}`;
    const many = [...lines.slice(0, 10), ...Array.from({ length: 200 }, () => huge)];
    const t = new CountingThreads(2);
    try {
      await t.ready;
      const report = await verifyExportParallel(many, keys, { threads: t, minLinesForThreads: 0 });
      expect(report).toEqual(await verifyExport(many, keys));
      expect(t.mostOut).toBeLessThanOrEqual(7 * ((1 << 20) + huge.length));
    } finally {
      await t.close();
    }
  });
});

describe('closing the threads', () => {
  const key = generateSigningKey();
  const keys = new Map([[key.keyId, key.publicKey]]);
  const lines = jsonlLines(sealChain(200, key));
  const fixture = (query: string, stopWaitMs?: number) =>
    new VerifyThreads(2, { module: new URL(`./fixtures/failing-verify-thread.ts?${query}`, import.meta.url).href, stopWaitMs });

  it('asks each thread to end on its own: they exit with 0, none is terminated', async () => {
    // Terminated threads once left a process hanging at exit (see StopRequest in verify-worker.ts).
    const t = new VerifyThreads(2);
    await t.ready;
    expect(await verifyExportParallel(lines, keys, { threads: t, minLinesForThreads: 0, batchLines: 16 })).toMatchObject({ ok: true, records: 200 });
    expect(t.exitCodes).toEqual([null, null]);
    await t.close();
    expect(t.exitCodes).toEqual([0, 0]);
    await t.close();
    expect(t.exitCodes).toEqual([0, 0]);
  });

  it('threads still starting end once started; a run that starts its own leaves none running', async () => {
    const unborn = new VerifyThreads(2);
    await unborn.close();
    expect(unborn.exitCodes).toEqual([]);
    const starting = new VerifyThreads(2);
    await vi.waitFor(() => expect(starting.exitCodes).toHaveLength(2));
    await starting.close();
    expect(starting.exitCodes).toEqual([0, 0]);
    // Threads the run starts for itself, stopped when it ends: the process has no thread left.
    const before = process.getActiveResourcesInfo().filter((r) => r === 'MessagePort').length;
    expect(await verifyExportParallel(lines, keys, { threads: 2, expectedLines: 1e6, batchLines: 16 })).toMatchObject({ ok: true });
    expect(process.getActiveResourcesInfo().filter((r) => r === 'MessagePort').length).toBe(before);
  });

  it('a batch out when its thread is terminated late, or crashes after close(), is rejected, never left waiting', async () => {
    const busy = fixture('fail=none&sleep=3000', 200);
    await busy.ready;
    const late = busy.examine(keys, 'jsonl', null, lines.slice(0, 4));
    late.catch(() => undefined);
    // The batch is out (examine posts it once the threads exist) and its thread is asleep on it.
    await new Promise((resolve) => setTimeout(resolve, 100));
    await busy.close();
    expect([...busy.exitCodes].sort()).toEqual([0, 1]);
    await expect(late).rejects.toBeInstanceOf(VerifyThreadError);
    const crashing = fixture('fail=throw&after=0');
    await crashing.ready;
    const lost = crashing.examine(keys, 'jsonl', null, lines.slice(0, 4));
    lost.catch(() => undefined);
    await new Promise((resolve) => setImmediate(resolve));
    await crashing.close();
    await expect(lost).rejects.toBeInstanceOf(VerifyThreadError);
  });

  it('a thread that goes on listening when asked to stop is terminated after stopWaitMs', async () => {
    const deaf = fixture('fail=none&stop=ignore', 200);
    await deaf.ready;
    expect(await verifyExportParallel(lines, keys, { threads: deaf, minLinesForThreads: 0, batchLines: 16 })).toMatchObject({ ok: true });
    await deaf.close();
    expect(deaf.exitCodes).toEqual([1, 1]);
    const heeds = fixture('fail=none');
    await heeds.ready;
    await heeds.close();
    expect(heeds.exitCodes).toEqual([0, 0]);
  });
});
