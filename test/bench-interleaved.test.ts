import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { combine, interleaved, type Measured } from './bench/interleaved.ts';
import { runLoad, type LoadResult } from './bench/loadgen.ts';

// The benchmark's compared throughputs (the gate, the floor, 2 + 2 processes) run in
// alternating slices: forwards then backwards, each way's slices pooled into one figure.

function slice(latencies: number[], seconds: number, errors: number, cpu: Record<string, number>, commits: number | undefined): Measured {
  const sorted = [...latencies].sort((a, b) => a - b);
  const result: LoadResult = { requests: sorted.length, answered: sorted.length, errors, seconds, throughput: (sorted.length - errors) / seconds, p50Ms: Number.NaN, p99Ms: Number.NaN, statuses: { 201: sorted.length - errors, 500: errors }, latencies: sorted };
  return { result, cpu: { seconds: cpu, commits } };
}

describe('interleaved bench slices', () => {
  it('runs the ways forwards, then backwards, telling each way when its first slice runs', async () => {
    const ran: string[] = [];
    const run = await interleaved(['auto', 'floor', 'split'] as const, 3, async (way, first) => {
      ran.push(`${way}${first ? '*' : ''}`);
      return slice([1, 2, 3], 1, 0, {}, 1);
    });
    expect(ran).toEqual(['auto*', 'floor*', 'split*', 'split', 'floor', 'auto', 'auto', 'floor', 'split']);
    expect(run.order.map((o) => o.way)).toEqual(['auto', 'floor', 'split', 'split', 'floor', 'auto', 'auto', 'floor', 'split']);
    expect(run.combined.auto.result.requests).toBe(9);
  });

  it('pools requests and latencies, sums time and CPU, and keeps the latencies out of the result', () => {
    const a = slice([10, 20, 30, 40], 2, 1, { server: 0.5, postgres: 0.25 }, 3);
    const b = slice([1, 2, 3, 4, 5, 6], 3, 0, { server: 1, postgres: 0.5 }, 4);
    const both = combine([a, b]);
    expect(both.result).toEqual({
      requests: 10,
      answered: 10,
      errors: 1,
      seconds: 5,
      throughput: 9 / 5,
      // Pooled: 1 2 3 4 5 6 10 20 30 40.
      p50Ms: 5,
      p99Ms: 40,
      statuses: { 201: 9, 500: 1 },
    });
    expect(both.cpu).toEqual({ seconds: { server: 1.5, postgres: 0.75 }, commits: 7 });
    // A slice whose commits could not be read leaves the sum unknown, not short.
    expect(combine([a, slice([1], 1, 0, {}, undefined)]).cpu.commits).toBeUndefined();
  });
});

describe('the load generator', () => {
  it('counts requests answered with another status and requests never answered as errors, and only the expected answers as throughput', async () => {
    let n = 0;
    const server = http.createServer((req, res) => {
      req.resume();
      const k = n++ % 3;
      // One in three answered 201, one 500, one cut off without an answer.
      if (k === 2) return void req.socket.destroy();
      res.writeHead(k === 0 ? 201 : 500).end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      let started = 0;
      const result = await runLoad({
        url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`,
        body: () => '{}',
        concurrency: 1,
        durationMs: 300,
        okStatus: 201,
        onMeasureStart: async () => {
          started = n;
        },
      });
      const sent = n - started;
      const ok = result.statuses[201] ?? 0;
      const refused = result.statuses[500] ?? 0;
      expect(result.requests).toBe(sent);
      expect(result.answered).toBe(ok + refused);
      expect(result.latencies).toHaveLength(ok + refused);
      expect(result.errors).toBe(sent - ok);
      expect(result.errors - refused).toBeGreaterThan(0);
      expect(result.throughput).toBeCloseTo(ok / result.seconds, 6);
    } finally {
      server.close();
    }
  });
});

describe('the load generator against no server', () => {
  it('pauses after a refused connection instead of spinning, and answers none', async () => {
    const server = http.createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    await new Promise<void>((r) => server.close(() => r()));
    const result = await runLoad({ url: `http://127.0.0.1:${port}/`, body: () => '{}', concurrency: 4, durationMs: 300, okStatus: 201 });
    expect(result.answered).toBe(0);
    expect(result.throughput).toBe(0);
    expect(result.errors).toBe(result.requests);
    // Four clients pausing 10 ms after each refusal: at most about 30 tries each in 300 ms.
    expect(result.requests).toBeLessThanOrEqual(4 * 31);
  });
});
