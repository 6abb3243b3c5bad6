import { readFileSync, rmSync, writeFileSync } from 'node:fs';

/**
 * A server we spawn outlives us if this process is SIGKILLed (or dies without its 'exit' hooks).
 * Each server therefore leaves an owner file beside its data: our pid and the server's pid.
 * The next start on the same data finds it and, when the owner is dead but the server still
 * runs, stops that orphan. A live owner means another run is using the data: we refuse rather
 * than share or kill it.
 */
export interface OwnerRecord {
  ownerPid: number;
  serverPid: number;
  /** A fragment that must appear in /proc/<serverPid>/cmdline, so a recycled pid is left alone. */
  commandMarker: string;
}

export function writeOwner(path: string, record: OwnerRecord): void {
  writeFileSync(path, `${JSON.stringify(record)}\n`, { mode: 0o600 });
}

export function readOwner(path: string): OwnerRecord | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  try {
    const parsed = JSON.parse(text) as Partial<OwnerRecord>;
    if (
      typeof parsed.ownerPid === 'number' &&
      typeof parsed.serverPid === 'number' &&
      typeof parsed.commandMarker === 'string'
    ) {
      return parsed as OwnerRecord;
    }
  } catch {
    // A torn write from a crash: there is nothing trustworthy to act on.
  }
  return undefined;
}

export function removeOwner(path: string): void {
  rmSync(path, { force: true });
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the pid exists but belongs to someone else; it is alive.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function commandLineOf(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
  } catch {
    return undefined;
  }
}

async function waitForExit(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!isAlive(pid)) return true;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return !isAlive(pid);
}

/**
 * Handles a leftover owner file before a server is started on the same data.
 * Throws when a live process still owns the data; stops an orphaned server otherwise.
 */
export async function reclaimFromDeadOwner(
  ownerPath: string,
  what: string,
  signal: NodeJS.Signals,
): Promise<void> {
  const record = readOwner(ownerPath);
  if (record === undefined) return;
  const serverCommand = commandLineOf(record.serverPid);
  const serverRunning =
    serverCommand !== undefined && serverCommand.includes(record.commandMarker);
  if (!serverRunning) {
    removeOwner(ownerPath);
    return;
  }
  if (record.ownerPid !== process.pid && isAlive(record.ownerPid)) {
    throw new Error(
      `${what} is already running for this data (server pid ${record.serverPid}, started by pid ${record.ownerPid}); stop that process first`,
    );
  }
  // The owner died without stopping its server: this orphan is ours to stop.
  process.kill(record.serverPid, signal);
  if (!(await waitForExit(record.serverPid, 30_000))) {
    process.kill(record.serverPid, 'SIGKILL');
    await waitForExit(record.serverPid, 5_000);
  }
  removeOwner(ownerPath);
}
