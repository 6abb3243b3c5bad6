import type { KeyObject } from 'node:crypto';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { LineOutcome } from './verify-line.ts';
import { VERIFY_WORKER_URL, type ExamineReply, type ExamineRequest, type ThreadReady, type VerifyWorkerSetup } from './verify-worker.ts';

/**
 * A verifying thread failed (crashed, could not start, or sent something unreadable). The
 * verification has no verdict: it ends with this error, never with a report.
 */
export class VerifyThreadError extends Error {
  readonly code = 'verify_thread_failed';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'VerifyThreadError';
  }
}

interface Thread {
  worker: Worker;
  waiting: Map<number, { resolve: (outcomes: LineOutcome[]) => void; reject: (err: Error) => void }>;
  /** Batches this thread has examined. */
  examined: number;
  up: boolean;
}

export interface VerifyThreadsOptions {
  /**
   * The module the threads run (default this package's verify-worker): another one must answer
   * the same messages. Tests use one that fails on purpose.
   */
  module?: string;
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
  private readonly threads: Thread[];
  private nextBatch = 0;
  private failed: VerifyThreadError | null = null;
  private closing = false;
  private upCount = 0;
  private settleReady: { resolve: () => void; reject: (err: Error) => void } | null = null;

  constructor(count: number, opts: VerifyThreadsOptions = {}) {
    const setup: VerifyWorkerSetup = { role: 'countersign-verify' };
    this.size = Math.max(1, Math.floor(count));
    this.ready = new Promise((resolve, reject) => (this.settleReady = { resolve, reject }));
    // Whoever never awaits `ready` still learns of a failure from examine(); no unhandled rejection.
    this.ready.catch(() => undefined);
    this.threads = Array.from({ length: this.size }, () => this.watch(startThread(opts.module ?? VERIFY_WORKER_URL, setup)));
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

  /** Examines lines on the least busy thread; rejects if any thread has failed. */
  examine(keys: Map<string, KeyObject>, format: ExamineRequest['format'], csv: ExamineRequest['csv'], texts: string[]): Promise<LineOutcome[]> {
    if (this.failed) return Promise.reject(this.failed);
    const thread = this.threads.reduce((a, b) => (b.waiting.size < a.waiting.size ? b : a));
    const batch = this.nextBatch++;
    return new Promise((resolve, reject) => {
      thread.waiting.set(batch, { resolve, reject });
      const request: ExamineRequest = { batch, keys, format, csv, texts };
      thread.worker.postMessage(request);
    });
  }

  async close(): Promise<void> {
    this.failed ??= new VerifyThreadError('the verifying threads are closed');
    this.settleReady?.reject(this.failed);
    this.closing = true;
    await Promise.all(this.threads.map((t) => t.worker.terminate()));
  }

  private watch(worker: Worker): Thread {
    const thread: Thread = { worker, waiting: new Map(), examined: 0, up: false };
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
      waiter?.resolve(reply.outcomes);
    });
    worker.on('error', (err) => this.fail(new VerifyThreadError(`a verifying thread failed: ${err.message}`, { cause: err })));
    worker.on('messageerror', (err) => this.fail(new VerifyThreadError(`a verifying thread sent an unreadable message: ${err.message}`, { cause: err })));
    worker.on('exit', (code) => {
      if (!this.closing) this.fail(new VerifyThreadError(`a verifying thread stopped (exit code ${code})`));
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

/**
 * Compiled JavaScript (a build) starts directly. From TypeScript sources (tsx, vitest) a new
 * thread has no TypeScript loader (Node 20 hands none to workers), so it first registers tsx,
 * a development dependency, and then loads the module.
 */
function startThread(module: string, setup: VerifyWorkerSetup): Worker {
  if (!/\.(c|m)?ts$/.test(new URL(module).pathname)) return new Worker(new URL(module), { workerData: setup });
  const bootstrap = `import(${JSON.stringify(tsxApiUrl(module))}).then((tsx) => { tsx.register(); return import(${JSON.stringify(module)}); });`;
  return new Worker(bootstrap, { eval: true, workerData: setup });
}

function tsxApiUrl(module: string): string {
  // require.resolve gives the CommonJS entry; the ES module one beside it is what import() wants.
  const resolved = createRequire(fileURLToPath(module)).resolve('tsx/esm/api');
  const esm = resolved.replace(/\.cjs$/, '.mjs');
  return pathToFileURL(existsSync(esm) ? esm : resolved).href;
}
