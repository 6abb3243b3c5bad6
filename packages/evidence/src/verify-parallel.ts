import type { KeyObject } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { DEFAULT_SIGNATURE_WINDOW, examinerHere, type VerifyOptions } from './verify.ts';
import type { ReadLine } from './verify-input.ts';
import { newVerification, type JudgedLine } from './verify-judge.ts';
import type { VerifyReport } from './verify-report.ts';
import { runVerification, type LineExaminer } from './verify-run.ts';
import { verifySignatureLater } from './verify-signatures.ts';
import { verifyThreadCount, VerifyThreadError, VerifyThreads } from './verify-threads.ts';

export interface ParallelVerifyOptions extends VerifyOptions {
  /**
   * Verifying threads (default `os.availableParallelism()`, at most four per core), started for this run and stopped
   * after it, or `VerifyThreads` the caller started and will close. Each examines whole lines
   * (parse, canonical form, hash, body, key, signature); the calling thread reads the export
   * and judges the chain in order. 0: no verifying threads, exactly `verifyExport`.
   */
  threads?: number | VerifyThreads;
  /**
   * Threads are started once this many lines have been read (default 20,000); a shorter export
   * is verified as `verifyExport` does. Until the threads are up, lines go on being checked on
   * the calling thread. `verifyExport` already keeps about one and a half cores busy (signatures
   * on the libuv pool), so threads gain little per line on a small machine, and starting them
   * costs about 0.1 s of CPU each (plus bundling the thread module once, from TypeScript
   * sources): measured on 2 cores, that pays back only after some ten thousand lines.
   */
  minLinesForThreads?: number;
  /**
   * How many lines the caller expects (an array's own length is used when this is not given).
   * At least `minLinesForThreads`: the threads start with the first line, so the export's head
   * is not checked on the calling thread while they could already be starting. A guess that
   * turns out high only costs a short export the threads' start-up; the report is the same.
   */
  expectedLines?: number;
  /** Lines sent to a thread at a time (default 256). */
  batchLines?: number;
  /**
   * A batch is sent once its lines hold this many characters, even short of `batchLines`
   * (default 1 Mi). What is read ahead of judging is a few batches per thread: counted in lines
   * alone, an export of 1 MB rows would be read a few gigabytes ahead of the first verdict.
   */
  batchChars?: number;
}

export const MIN_LINES_FOR_THREADS = 20_000;
const BATCH_LINES = 256;
const BATCH_CHARS = 1 << 20;
// Batches out per thread: one being examined, the next ones waiting, so no thread idles while
// the calling thread judges.
const BATCHES_PER_THREAD = 3;

/**
 * `verifyExport` with the per-line work spread over worker threads: the same checks, the same
 * first problem, the same report. A thread that fails ends the verification with a
 * `VerifyThreadError`, never with a verdict.
 */
export async function verifyExportParallel(
  lines: Iterable<string> | AsyncIterable<string>,
  keys: Map<string, KeyObject>,
  opts: ParallelVerifyOptions = {},
): Promise<VerifyReport> {
  const threads = opts.threads instanceof VerifyThreads ? opts.threads : verifyThreadCount(opts.threads ?? availableParallelism(), 0);
  const v = newVerification(keys, opts.retired, opts.concurrency ?? DEFAULT_SIGNATURE_WINDOW);
  const minLines = opts.minLinesForThreads ?? MIN_LINES_FOR_THREADS;
  const expected = opts.expectedLines ?? (Array.isArray(lines) ? lines.length : undefined);
  const examiner =
    threads === 0
      ? examinerHere(keys, verifySignatureLater)
      : new ThreadedExaminer(keys, threads, expected !== undefined && expected >= minLines ? 0 : minLines, {
          lines: Math.max(1, opts.batchLines ?? BATCH_LINES),
          chars: Math.max(1, opts.batchChars ?? BATCH_CHARS),
        });
  return runVerification(lines, v, examiner, opts.requireTrailer ?? true);
}

/**
 * Examines lines on this thread, as verifyExport does, until the export is long enough to be
 * worth threads and they are up; from then on sends batches to the threads and hands back
 * examined batches in export order, a few batches ahead. Judging depends only on the lines'
 * order, so where each line was examined never changes the report.
 */
class ThreadedExaminer implements LineExaminer {
  private texts = 0;
  private threads: VerifyThreads | null = null;
  private batched = false;
  private batch: ReadLine[] = [];
  private batchChars = 0;
  private readonly out: Array<Promise<JudgedLine[]>> = [];
  private readonly here: LineExaminer;
  private readonly ahead: number;

  constructor(
    private readonly keys: Map<string, KeyObject>,
    /** Threads to start, or the caller's (then not closed here). */
    private readonly given: number | VerifyThreads,
    private readonly minLines: number,
    /** A batch is sent when it holds this many lines or characters, whichever comes first. */
    private readonly limit: { lines: number; chars: number },
  ) {
    this.here = examinerHere(keys, verifySignatureLater);
    this.ahead = (typeof given === 'number' ? given : given.size) * BATCHES_PER_THREAD;
  }

  examine(read: ReadLine): JudgedLine[] | Promise<JudgedLine[]> {
    if (read.kind === 'text') this.texts += 1;
    if (this.threads === null && this.texts >= this.minLines) {
      this.threads = typeof this.given === 'number' ? new VerifyThreads(this.given) : this.given;
    }
    if (!this.batched) {
      // A thread that failed fails the run even before it is used.
      if (this.threads?.failure) throw this.threads.failure;
      if (!this.threads?.isReady) return this.here.examine(read);
      this.batched = true;
    }
    this.batch.push(read);
    if (read.kind === 'text') this.batchChars += read.text.length;
    // A reading problem ends verification where it is: judged now, not once the batch fills,
    // which lines that read as nothing (blank ones after a refused row) might never do.
    if (read.kind !== 'text') {
      this.send();
      return this.oldest(0);
    }
    if (this.batch.length >= this.limit.lines || this.batchChars >= this.limit.chars) this.send();
    return this.out.length > this.ahead ? this.oldest(this.ahead) : [];
  }

  async flush(): Promise<JudgedLine[]> {
    if (this.threads?.failure) throw this.threads.failure;
    this.send();
    return this.oldest(0);
  }

  async close(): Promise<void> {
    if (typeof this.given === 'number') await this.threads?.close();
  }

  private send(): void {
    if (this.batch.length === 0) return;
    const examined = examineBatch(this.threads!, this.keys, this.batch);
    // Awaited in order by oldest(); a batch left behind when verification stops early must not
    // become an unhandled rejection.
    examined.catch(() => undefined);
    this.out.push(examined);
    this.batch = [];
    this.batchChars = 0;
  }

  /** The oldest batches' lines, until at most `keep` batches are still out. */
  private async oldest(keep: number): Promise<JudgedLine[]> {
    const lines: JudgedLine[] = [];
    while (this.out.length > keep) lines.push(...(await this.out.shift()!));
    return lines;
  }
}

async function examineBatch(threads: VerifyThreads, keys: Map<string, KeyObject>, batch: ReadLine[]): Promise<JudgedLine[]> {
  const texts = batch.filter((read) => read.kind === 'text');
  const first = texts[0];
  const outcomes = first ? await threads.examine(keys, first.format, first.csv, texts.map((read) => read.text)) : [];
  if (outcomes.length !== texts.length) throw new VerifyThreadError(`a verifying thread answered ${outcomes.length} lines for ${texts.length}`);
  let next = 0;
  return batch.map((read) => (read.kind === 'text' ? { kind: 'examined', line: read.line, endLine: read.endLine, outcome: outcomes[next++]! } : read));
}
