import { PassThrough } from 'node:stream';

export interface Captured {
  code: number;
  out: string;
  err: string;
}

/**
 * Runs a command with its stdout and stderr captured. A thrown error reads as main.ts prints
 * it ("countersign: …", exit 1), unless `rethrow` (then the run rejects, as dispatch would).
 */
export async function runCaptured(run: (io: { stdout: PassThrough; stderr: PassThrough }) => Promise<number>, opts: { rethrow?: boolean } = {}): Promise<Captured> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (c) => (out += c));
  stderr.on('data', (c) => (err += c));
  const running = run({ stdout, stderr });
  const code = opts.rethrow ? await running : await running.catch((e: Error) => ((err += `countersign: ${e.message}\n`), 1));
  return { code, out, err };
}
