import http from 'node:http';

// A closed-loop load generator: `concurrency` clients, each sending its next request as soon
// as the previous one answers, over keep-alive connections, for a fixed time. Given several
// URLs (processes of one cluster), client k sends to URL k mod n.

export interface LoadResult {
  /** Requests tried in the measured window, answered or not. */
  requests: number;
  /** Of those, the ones a server answered (with any status): what CPU per request divides by. */
  answered: number;
  /** Of those, answered with another status than the expected one, or not answered at all. */
  errors: number;
  seconds: number;
  throughput: number;
  p50Ms: number;
  p99Ms: number;
  statuses: Record<number, number>;
  /** Every recorded request's latency (ms), sorted: for merging runs (interleaved.ts). */
  latencies?: number[];
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i]!;
}

function send(agent: http.Agent, url: URL, method: string, headers: Record<string, string>, body: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, agent, headers: { ...headers, 'content-length': Buffer.byteLength(body) } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

export async function runLoad(opts: {
  url: string | string[];
  method?: string;
  headers?: Record<string, string>;
  body: (i: number) => string;
  concurrency: number;
  durationMs: number;
  warmupMs?: number;
  /**
   * Called when the measured window starts (after the warm-up), e.g. to sample CPU counters:
   * awaited, with no request in flight, so that what it reads is the window's start (the
   * write-transaction count read while the clients already sent missed their first commits).
   */
  onMeasureStart?: () => void | Promise<void>;
  okStatus: number;
}): Promise<LoadResult> {
  const urls = (Array.isArray(opts.url) ? opts.url : [opts.url]).map((u) => new URL(u));
  const agent = new http.Agent({ keepAlive: true, maxSockets: opts.concurrency });
  const headers = { 'content-type': 'application/json', ...opts.headers };
  let i = 0;
  // errors: answers other than okStatus, and requests that got no answer at all (these have
  // no latency, but count among the requests: throughput is only the ok answers).
  const loop = async (url: URL, until: number, record: boolean, latencies: number[], statuses: Record<number, number>, errors: { n: number; unanswered: number }) => {
    while (Date.now() < until) {
      const start = process.hrtime.bigint();
      try {
        const status = await send(agent, url, opts.method ?? 'POST', headers, opts.body(i++));
        if (!record) continue;
        statuses[status] = (statuses[status] ?? 0) + 1;
        if (status !== opts.okStatus) errors.n++;
        latencies.push(Number(process.hrtime.bigint() - start) / 1e6);
      } catch {
        // No server (refused, reset): a short pause, not a spin that would make thousands of
        // "requests" of it.
        await new Promise((r) => setTimeout(r, 10));
        if (!record) continue;
        errors.n++;
        errors.unanswered++;
      }
    }
  };
  if (opts.warmupMs) {
    const until = Date.now() + opts.warmupMs;
    await Promise.all(Array.from({ length: opts.concurrency }, (_, k) => loop(urls[k % urls.length]!, until, false, [], {}, { n: 0, unanswered: 0 })));
  }
  await opts.onMeasureStart?.();
  const latencies: number[] = [];
  const statuses: Record<number, number> = {};
  const errors = { n: 0, unanswered: 0 };
  const started = Date.now();
  const until = started + opts.durationMs;
  await Promise.all(Array.from({ length: opts.concurrency }, (_, k) => loop(urls[k % urls.length]!, until, true, latencies, statuses, errors)));
  const seconds = (Date.now() - started) / 1000;
  agent.destroy();
  latencies.sort((a, b) => a - b);
  const requests = latencies.length + errors.unanswered;
  return {
    requests,
    answered: latencies.length,
    errors: errors.n,
    seconds,
    throughput: (requests - errors.n) / seconds,
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
    statuses,
    latencies,
  };
}
