import type { KeyObject } from 'node:crypto';
import { isMainThread, parentPort, workerData, type MessagePort } from 'node:worker_threads';
import type { CsvLayout } from './csv.ts';
import { packOutcomes, type PackedOutcomes } from './verify-batch.ts';
import { examineLineNow } from './verify-line.ts';

// A verifying thread: examines the lines it is sent, each on its own (parse, canonical form,
// hash, body, key, signature), and sends back each line's outcome. The chain is judged by the
// thread that reads the export (verify-parallel.ts).

/**
 * This module's own address, for starting threads on it: the TypeScript source when running
 * from sources, the compiled file in a build (the build compiles it because it is imported).
 */
export const VERIFY_WORKER_URL: string = import.meta.url;

export interface VerifyWorkerSetup {
  role: 'countersign-verify';
}

export interface ExamineRequest {
  batch: number;
  /** The run's public keys: a thread may serve several runs (KeyObjects are cloned cheaply). */
  keys: Map<string, KeyObject>;
  format: 'jsonl' | 'csv';
  csv: CsvLayout | null;
  texts: string[];
}

export interface ExamineReply {
  batch: number;
  /** Each line's outcome, in the order of `texts`. */
  outcomes: PackedOutcomes;
}

/** Sent once, when the thread has loaded and listens. */
export interface ThreadReady {
  ready: true;
}

/**
 * Asks the thread to end on its own: it stops listening, and its event loop, with nothing left
 * to do, ends it (exit code 0). Terminating a thread stops it wherever it is, V8's background
 * work for it included, and a process that had terminated its threads once hung at exit, every
 * thread waiting (a CI run; Node's own CI shows the same hang, nodejs/node#54918). A thread that
 * does not end soon after being asked is still terminated (verify-threads.ts).
 */
export interface StopRequest {
  stop: true;
}

function isSetup(data: unknown): data is VerifyWorkerSetup {
  return typeof data === 'object' && data !== null && (data as { role?: unknown }).role === 'countersign-verify';
}

function serve(port: MessagePort): void {
  port.on('message', (request: ExamineRequest | StopRequest) => {
    if ('stop' in request) {
      port.close();
      return;
    }
    // An exception here is not caught: it ends the thread, and the verification with an error.
    const outcomes = request.texts.map((text) => examineLineNow(text, request.format, request.csv, request.keys));
    const reply: ExamineReply = { batch: request.batch, outcomes: packOutcomes(outcomes) };
    port.postMessage(reply);
  });
  const ready: ThreadReady = { ready: true };
  port.postMessage(ready);
}

// Imported by the reading thread too (for the address): only a thread started as a verifier serves.
if (!isMainThread && parentPort && isSetup(workerData)) serve(parentPort);
