import type { KeyObject } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { threadEntry, type ThreadEntry } from './thread-entry.ts';
import { unpackOutcomes } from './verify-batch.ts';
import type { LineOutcome } from './verify-line.ts';
import { VERIFY_WORKER_URL, type ExamineReply, type ExamineRequest, type StopRequest, type ThreadReady, type VerifyWorkerSetup } from './verify-worker.ts';

/**
 * A verifying thread failed (crashed, could not start, or sent something unreadable). The
 * verification has no verdict: it ends with this error, never with a report.
 */
export class VerifyThreadError extends Error {
  readonly code = 'verify_thread_failed';
  constructor(message: string, options?: { cause?: unknown }) {
    super(withoutBundle(message), options?.cause instanceof Error ? { cause: shortened(options.cause) } : options);
    this.name = 'VerifyThreadError';
  }
}

// A thread runs its module from an in-memory data: URL (thread-entry.ts), which every frame of
// a thread's stack names in full: hundreds of kilobytes per frame in a log line. Named short.
const BUNDLE_URL = /data:text\/javascript;base64,[A-Za-z0-9+/=]+/g;
const withoutBundle = (text: string): string => text.replace(BUNDLE_URL, 'countersign-verify-thread');

function shortened(err: Error): Error {
  try {
    err.message = withoutBundle(err.message);
    if (typeof err.stack === 'string') err.stack = withoutBundle(err.stack);
  } catch {
    // A frozen or odd error object keeps what it had.
  }
  return err;
}

/**
 * Most verifying threads one run starts: a few per core. More never verifies faster (the work
 * is CPU-bound) and each costs its own heap, about 14 MB: asked for 9,999 a run wanted some
 * 110 GB, and Infinity threw from inside thread start-up (review s14 a).
 */
export const maxVerifyThreads = (): number => 4 * availableParallelism();

/** `asked` as a thread count: a whole number from `least` to maxVerifyThreads(); NaN is `least`. */
export function verifyThreadCount(asked: number, least: number): number {
  if (Number.isNaN(asked)) return least;
  return Math.min(maxVerifyThreads(), Math.max(least, Math.floor(asked)));
}

interface Thread {
  worker: Worker;
  waiting: Map<number, { resolve: (outcomes: LineOutcome[]) => void; reject: (err: Error) => void }>;
  /** Batches this thread has examined. */
  examined: number;
  up: boolean;
  /** The thread's exit code once it has ended (1 when it was terminated). */
  exitCode: number | null;
  /** Settles when the thread has ended. */
  ended: Promise<void>;
}

/** How long close() lets a thread asked to stop end on its own before terminating it. */
const STOP_WAIT_MS = 5_000;

export interface VerifyThreadsOptions {
  /**
   * The module the threads run (default this package's verify-worker): another one must answer
   * the same messages. Tests use one that fails on purpose.
   */
  module?: string;
  /** How long close() waits for a thread asked to stop before terminating it (default 5 s). */
  stopWaitMs?: number;
}

/**
 * Verifying threads: each examines the batches of lines it is given. `verifyExportParallel`
 * starts its own for one run; a caller verifying many exports can start them once, pass them
 * as `threads`, and close them when done. Once one thread has failed, every run on them fails.
 */
export class VerifyThreads {
  readonly size: number;
  /** Resolves once every thread has loaded and listens; rejects if one fails first. */
  readonly ready: Promise<void>;
  private threads: Thread[] = [];
  /** Settles when the threads exist (their module found, see thread-entry.ts). */
  private readonly started: Promise<void>;
  private nextBatch = 0;
  private failed: VerifyThreadError | null = null;
  private closing = false;
  private upCount = 0;
  private settleReady: { resolve: () => void; reject: (err: Error) => void } | null = null;
  private readonly stopWaitMs: number;

  constructor(count: number, opts: VerifyThreadsOptions = {}) {
    const setup: VerifyWorkerSetup = { role: 'countersign-verify' };
    this.size = verifyThreadCount(count, 1);
    this.stopWaitMs = opts.stopWaitMs ?? STOP_WAIT_MS;
    this.ready = new Promise((resolve, reject) => (this.settleReady = { resolve, reject }));
    // Whoever never awaits `ready` still learns of a failure from examine(); no unhandled rejection.
    this.ready.catch(() => undefined);
    this.started = threadEntry(opts.module ?? VERIFY_WORKER_URL).then(
      (entry) => {
        if (this.closing) return;
        this.threads = Array.from({ length: this.size }, () => this.watch(startThread(entry, setup)));
      },
      (err: unknown) => this.fail(new VerifyThreadError(`verifying threads could not start: ${(err as Error).message}`, { cause: err })),
    );
  }

  /** Every thread is up. */
  get isReady(): boolean {
    return this.upCount === this.size;
  }

  /** Why these threads can no longer be used (a thread failed, or they were closed), if so. */
  get failure(): VerifyThreadError | null {
    return this.failed;
  }

  /** How many batches each thread has examined so far (how evenly the work spread). */
  get examinedBatches(): number[] {
    return this.threads.map((t) => t.examined);
  }

  /** How each thread ended: null while it runs, 0 when it stopped on its own, 1 if terminated. */
  get exitCodes(): Array<number | null> {
    return this.threads.map((t) => t.exitCode);
  }

  /** Examines lines on the least busy thread; rejects if any thread has failed. */
  async examine(keys: Map<string, KeyObject>, format: ExamineRequest['format'], csv: ExamineRequest['csv'], texts: string[]): Promise<LineOutcome[]> {
    await this.started;
    if (this.failed) throw this.failed;
    const thread = this.threads.reduce((a, b) => (b.waiting.size < a.waiting.size ? b : a));
    const batch = this.nextBatch++;
    return new Promise((resolve, reject) => {
      thread.waiting.set(batch, { resolve, reject });
      const request: ExamineRequest = { batch, keys, format, csv, texts };
      thread.worker.postMessage(request);
    });
  }

  /**
   * Stops the threads: each is asked to end on its own (see StopRequest in verify-worker.ts) and
   * terminated only if it has not ended within `stopWaitMs`. One still starting ends once its
   * module has loaded.
   */
  async close(): Promise<void> {
    this.failed ??= new VerifyThreadError('the verifying threads are closed');
    this.settleReady?.reject(this.failed);
    this.closing = true;
    // Threads whose module is still being prepared are never started (see the constructor):
    // a run that ended before they were needed does not wait for them.
    await Promise.all(this.threads.map((t) => this.stop(t)));
  }

  private async stop(thread: Thread): Promise<void> {
    if (thread.exitCode !== null) return;
    const stop: StopRequest = { stop: true };
    thread.worker.postMessage(stop);
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((resolve) => {
      timer = setTimeout(() => resolve('late'), this.stopWaitMs);
    });
    try {
      if ((await Promise.race([thread.ended, late])) === 'late') await thread.worker.terminate();
    } finally {
      clearTimeout(timer);
    }
  }

  private watch(worker: Worker): Thread {
    let ended = (): void => undefined;
    const thread: Thread = { worker, waiting: new Map(), examined: 0, up: false, exitCode: null, ended: new Promise((resolve) => (ended = resolve)) };
    worker.on('message', (reply: ExamineReply | ThreadReady) => {
      if ('ready' in reply) {
        if (!thread.up) this.upCount += 1;
        thread.up = true;
        if (this.isReady) this.settleReady?.resolve();
        return;
      }
      const waiter = thread.waiting.get(reply.batch);
      thread.waiting.delete(reply.batch);
      thread.examined += 1;
      let outcomes: LineOutcome[];
      try {
        outcomes = unpackOutcomes(reply.outcomes);
      } catch (err) {
        this.fail(new VerifyThreadError(`a verifying thread sent an unreadable answer: ${(err as Error).message}`, { cause: err }));
        // This batch was taken off the waiting list above: it fails too (review s15 b, 6).
        waiter?.reject(this.failed ?? new VerifyThreadError('a verifying thread sent an unreadable answer'));
        return;
      }
      waiter?.resolve(outcomes);
    });
    // A thread may throw anything (null, a string): said as it is, never a crash of this thread.
    worker.on('error', (err: unknown) => this.fail(new VerifyThreadError(`a verifying thread failed: ${err instanceof Error ? err.message : String(err)}`, { cause: err })));
    worker.on('messageerror', (err) => this.fail(new VerifyThreadError(`a verifying thread sent an unreadable message: ${err.message}`, { cause: err })));
    worker.on('exit', (code) => {
      thread.exitCode = code;
      ended();
      if (!this.closing) this.fail(new VerifyThreadError(`a verifying thread stopped (exit code ${code})`));
      // Batches it never answered end with the failure, closing or not: one terminated late or
      // crashed after close() was asked must not leave its run waiting forever (review s15 a, D).
      const err = this.failed ?? new VerifyThreadError(`a verifying thread stopped (exit code ${code})`);
      for (const waiter of thread.waiting.values()) waiter.reject(err);
      thread.waiting.clear();
    });
    return thread;
  }

  // One thread failing fails every batch still out: the run cannot be completed honestly.
  private fail(err: VerifyThreadError): void {
    if (this.closing) return;
    this.failed ??= err;
    this.settleReady?.reject(this.failed);
    for (const thread of this.threads) {
      for (const waiter of thread.waiting.values()) waiter.reject(this.failed);
      thread.waiting.clear();
    }
  }
}

function startThread(entry: ThreadEntry, setup: VerifyWorkerSetup): Worker {
  if ('source' in entry) return new Worker(entry.source, { eval: true, workerData: setup });
  // A bundle is plain JavaScript: the thread needs none of the loaders this process was started
  // with (tsx's would cost it a few hundred milliseconds of CPU for nothing).
  return new Worker(entry.url, { workerData: setup, ...(entry.url.protocol === 'data:' ? { execArgv: [] } : {}) });
}
