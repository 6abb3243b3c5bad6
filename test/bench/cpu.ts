import fs from 'node:fs';
import pg from 'pg';
import type { LoadResult } from './loadgen.ts';

// Where the CPU of a benchmark run goes, to tell which of the server, Postgres and the load
// generator (all on the same small machine) limits it; plus how many write transactions
// Postgres ran, which shows how well submissions share commits.

export interface CpuUsed {
  /** CPU seconds of each watched process tree, and of this process (the load generator). */
  seconds: Record<string, number>;
  /** Write transactions in the cluster meanwhile (transaction ids assigned). */
  commits: number | undefined;
}

/**
 * CPU seconds (user + system) used so far by `root` and all its descendants, from /proc: each
 * live process's own time plus its reaped children's (cutime, cstime), so a Postgres backend
 * that exits between two readings still counts.
 */
export function treeCpuSeconds(root: number): number {
  const children = new Map<number, number[]>();
  const cpu = new Map<number, number>();
  const ticks = 100; // USER_HZ on Linux
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue; // exited meanwhile
    }
    // Fields after "(comm)": state ppid … utime(12th) stime(13th) cutime(14th) cstime(15th).
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const pid = Number(entry);
    const ppid = Number(fields[1]);
    cpu.set(pid, (Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14])) / ticks);
    children.set(ppid, [...(children.get(ppid) ?? []), pid]);
  }
  let total = 0;
  const stack = [root];
  while (stack.length > 0) {
    const pid = stack.pop()!;
    total += cpu.get(pid) ?? 0;
    stack.push(...(children.get(pid) ?? []));
  }
  return total;
}

/**
 * The cluster's next transaction id. Every transaction that writes takes one, read-only ones
 * do not, so the difference between two readings counts write transactions at once (unlike
 * pg_stat_database, which backends flush lazily). Each reading takes one id itself.
 */
async function commitsSoFar(databaseUrl: string): Promise<number | undefined> {
  const client = new pg.Client({ connectionString: databaseUrl });
  try {
    await client.connect();
    const { rows } = await client.query<{ n: string }>('SELECT pg_current_xact_id()::text AS n');
    return rows[0] ? Number(rows[0].n) : undefined;
  } catch {
    return undefined; // statistics are a nice-to-have in a benchmark report
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Samples the trees in `pids` and this process between `start()` and `stop()`. */
export function cpuSampler(pids: Record<string, number>, databaseUrl?: string) {
  let started: { seconds: Record<string, number>; own: NodeJS.CpuUsage; commits: number | undefined } | undefined;
  const sample = () => Object.fromEntries(Object.entries(pids).map(([name, pid]) => [name, treeCpuSeconds(pid)]));
  return {
    async start(): Promise<void> {
      const seconds = sample();
      const own = process.cpuUsage();
      started = { seconds, own, commits: databaseUrl ? await commitsSoFar(databaseUrl) : undefined };
    },
    async stop(): Promise<CpuUsed> {
      const seconds = sample();
      const own = process.cpuUsage(started?.own);
      const commits = databaseUrl ? await commitsSoFar(databaseUrl) : undefined;
      const base: { seconds: Record<string, number>; commits: number | undefined } = started ?? { seconds: {}, commits: undefined };
      const used: Record<string, number> = {};
      for (const [name, s] of Object.entries(seconds)) used[name] = s - (base.seconds[name] ?? 0);
      used['load generator'] = (own.user + own.system) / 1e6;
      return { seconds: used, commits: commits !== undefined && base.commits !== undefined ? commits - base.commits - 1 : undefined };
    },
  };
}

export function describeCpu(used: CpuUsed, r: LoadResult): string {
  const parts = Object.entries(used.seconds).map(
    ([name, s]) => `${name} ${((s * 1e6) / Math.max(1, r.answered)).toFixed(0)} µs/req (${((s / r.seconds) * 100).toFixed(0)}% of a core)`,
  );
  const commits = used.commits === undefined ? '' : `; ${used.commits} write transactions (${(r.answered / Math.max(1, used.commits)).toFixed(1)} requests each)`;
  return `    cpu: ${parts.join(', ')}${commits}`;
}

/**
 * CPU seconds the whole machine has spent busy so far (all cores; /proc/stat: everything but
 * idle, iowait and time stolen by the hypervisor). Against the processes a bench watches, it shows how much other work shared
 * the machine meanwhile.
 */
export function machineBusySeconds(): number {
  const line = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0]!;
  const [, ...ticks] = line.trim().split(/\s+/).map(Number);
  const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0] = ticks;
  return (user + nice + system + irq + softirq) / 100;
}

/**
 * Waits until the whole machine has been about idle (under `cores` busy) for `windowMs`, at most
 * `maxMs`; returns the busy cores last seen. A CPU-bound row measured right after another
 * (Postgres checkpointing what it wrote, processes still exiting) would measure that too.
 */
export async function untilQuiet(opts: { cores?: number; windowMs?: number; maxMs?: number } = {}): Promise<number> {
  const { cores = 0.15, windowMs = 1_000, maxMs = 20_000 } = opts;
  const deadline = Date.now() + maxMs;
  for (;;) {
    const before = machineBusySeconds();
    await new Promise((r) => setTimeout(r, windowMs));
    const busy = (machineBusySeconds() - before) / (windowMs / 1000);
    if (busy < cores || Date.now() > deadline) return busy;
  }
}
