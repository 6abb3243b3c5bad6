import { spawn } from 'node:child_process';
import { guardChild, releaseChild } from './exit-guard.ts';

/**
 * A server must not outlive the process that started it, even when that process is SIGKILLed
 * (no 'exit' hook runs then). Neither Postgres nor Redis can watch their parent, so a tiny
 * shell loop does: once a second it checks that we are alive, and when we are gone it sends
 * the server its shutdown signal. stop() of the server ends the watchdog first.
 */
export interface Watchdog {
  release(): void;
}

export function watchOwner(serverPid: number, signal: 'INT' | 'TERM'): Watchdog {
  const script = 'while kill -0 "$1" 2>/dev/null; do sleep 1; done; kill -s "$3" "$2" 2>/dev/null';
  const child = spawn('sh', ['-c', script, 'countersign-watchdog', String(process.pid), String(serverPid), signal], {
    detached: true,
    stdio: 'ignore',
  });
  child.unref();
  const pid = child.pid;
  if (pid === undefined) {
    // The server still stops on our 'exit' and through owner files; only SIGKILL-safety is lost.
    return { release: () => {} };
  }
  guardChild(pid);
  let released = false;
  return {
    release: () => {
      if (released) return;
      released = true;
      releaseChild(pid);
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    },
  };
}
