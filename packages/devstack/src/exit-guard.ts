/**
 * Last-resort cleanup: when this process exits (normally, by process.exit, or after a signal
 * handler the caller installed), kill the servers we spawned so none outlives us. Only
 * synchronous work is possible in 'exit', so this sends SIGKILL by pid; graceful stops happen
 * earlier through each server's stop(). Servers are spawned detached so that a terminal's
 * Ctrl-C reaches our process first and the caller can stop things in order.
 */
const pids = new Set<number>();
let installed = false;

function killAll(): void {
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Already gone: exactly what we want.
    }
  }
  pids.clear();
}

export function guardChild(pid: number): void {
  if (!installed) {
    process.on('exit', killAll);
    installed = true;
  }
  pids.add(pid);
}

export function releaseChild(pid: number): void {
  pids.delete(pid);
}
