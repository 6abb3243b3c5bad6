import type { ChildProcess } from 'node:child_process';

/** Keeps the last few KiB of a child's output for error messages. */
export class TailBuffer {
  private chunks: string[] = [];
  private size = 0;

  constructor(private readonly limit = 8_192) {}

  push(chunk: Buffer | string): void {
    const text = chunk.toString();
    this.chunks.push(text);
    this.size += text.length;
    while (this.size > this.limit && this.chunks.length > 1) {
      this.size -= this.chunks.shift()?.length ?? 0;
    }
  }

  text(): string {
    return this.chunks.join('').trim();
  }
}

function hasExited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

/**
 * Sends `signal`, waits up to `graceMs` for the child to exit, then SIGKILLs it.
 * Resolves once the child is gone; a child that already exited resolves at once.
 */
export async function stopChild(child: ChildProcess, signal: NodeJS.Signals, graceMs: number): Promise<void> {
  if (hasExited(child)) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill(signal);
  const timer = new Promise<'timeout'>((resolve) => {
    setTimeout(() => resolve('timeout'), graceMs).unref();
  });
  if ((await Promise.race([exited.then(() => 'exited' as const), timer])) === 'timeout' && !hasExited(child)) {
    child.kill('SIGKILL');
    await exited;
  }
}
