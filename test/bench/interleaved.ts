import type { CpuUsed } from './cpu.ts';
import { percentile, type LoadResult } from './loadgen.ts';

// Throughputs that are compared with each other (the gate with the floor, 2 + 2 processes with
// one) are measured in alternating slices, not one after the other: this machine's speed drifts
// from minute to minute (the same run measured 1,292 and 2,229 decisions/s minutes apart), and
// a ratio of two figures taken minutes apart measured the drift as much as the code. The order
// goes forwards, then backwards (A B C, C B A), so each way's slices sit around the same
// moment and a steady drift favours none of them.

export interface Measured {
  result: LoadResult;
  cpu: CpuUsed;
}

export interface InterleavedRun<K extends string> {
  /** Each way's slices combined: every request, over the slices' summed time and CPU. */
  combined: Record<K, Measured>;
  /** The slices in the order they ran, for the report (drift shows there). */
  order: { way: K; throughput: number }[];
}

/**
 * Runs each way once per round, the rounds alternating forwards and backwards over `ways`.
 * `measure(way, first)`: `first` is true for a way's first slice (give it the longer warm-up).
 */
export async function interleaved<K extends string>(ways: readonly K[], rounds: number, measure: (way: K, first: boolean) => Promise<Measured>): Promise<InterleavedRun<K>> {
  const slices = new Map<K, Measured[]>(ways.map((w) => [w, []]));
  const order: { way: K; throughput: number }[] = [];
  for (let round = 0; round < rounds; round++) {
    for (const way of round % 2 === 0 ? ways : [...ways].reverse()) {
      const measured = await measure(way, slices.get(way)!.length === 0);
      slices.get(way)!.push(measured);
      order.push({ way, throughput: measured.result.throughput });
    }
  }
  return { combined: Object.fromEntries(ways.map((w) => [w, combine(slices.get(w)!)])) as Record<K, Measured>, order };
}

/** Several slices of one way as one: requests and latencies pooled, time and CPU summed. */
export function combine(slices: Measured[]): Measured {
  const latencies = slices.flatMap((s) => s.result.latencies ?? []).sort((a, b) => a - b);
  const requests = slices.reduce((n, s) => n + s.result.requests, 0);
  const answered = slices.reduce((n, s) => n + s.result.answered, 0);
  const errors = slices.reduce((n, s) => n + s.result.errors, 0);
  const seconds = slices.reduce((n, s) => n + s.result.seconds, 0);
  const statuses: Record<number, number> = {};
  for (const s of slices) for (const [status, n] of Object.entries(s.result.statuses)) statuses[Number(status)] = (statuses[Number(status)] ?? 0) + n;
  const cpuSeconds: Record<string, number> = {};
  for (const s of slices) for (const [name, used] of Object.entries(s.cpu.seconds)) cpuSeconds[name] = (cpuSeconds[name] ?? 0) + used;
  const commits = slices.every((s) => s.cpu.commits !== undefined) ? slices.reduce((n, s) => n + s.cpu.commits!, 0) : undefined;
  return {
    // The latencies stay out of what results.json records (tens of thousands of numbers).
    result: { requests, answered, errors, seconds, throughput: (requests - errors) / seconds, p50Ms: percentile(latencies, 50), p99Ms: percentile(latencies, 99), statuses },
    cpu: { seconds: cpuSeconds, commits },
  };
}
