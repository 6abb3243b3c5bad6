import type { CpuUsed } from './cpu.ts';
import { cpuSampler } from './cpu.ts';
import { runLoad, type LoadResult } from './loadgen.ts';

/** The auto-decide intent: a read, which the fixture policy approves at once. */
export const AUTO_INTENT = JSON.stringify({ action: { type: 'db.query', resource: 'orders-replica' }, risk: { class: 'read' } });

/** How a measurement runs, whatever it sends to. */
interface LoadWindow {
  databaseUrl: string;
  concurrency: number;
  durationMs: number;
  /** Load before measuring (default 2 s). */
  warmupMs?: number;
}

/**
 * Drives `POST /v1/actions` on a running gate with `concurrency` clients for `durationMs`
 * (after a 2 s warm-up) and samples the CPU the server processes and Postgres spend meanwhile.
 * Several ports (API processes of one cluster) share the clients between them. Shared by
 * `npm run bench` and the auto-decide-only profiling script.
 */
export async function measureAutoDecide(opts: {
  ports: string[];
  token: string;
  /** Processes to sample, by name (e.g. { server: pid } or { 'api 1': pid, … }). */
  servers: Record<string, number>;
  postgresPid: number;
} & LoadWindow): Promise<{ result: LoadResult; cpu: CpuUsed }> {
  return measuredLoad({
    url: opts.ports.map((port) => `http://127.0.0.1:${port}/v1/actions`),
    headers: { authorization: `Bearer ${opts.token}` },
    pids: { ...opts.servers, postgres: opts.postgresPid },
    ...opts,
  });
}

/**
 * The floor: the same clients and body against a bare Fastify route that does one INSERT per
 * request (bare-server.ts), with its process and Postgres sampled the same way.
 */
export async function measureFloor(opts: {
  port: string;
  serverPid: number;
  postgresPid: number;
} & LoadWindow): Promise<{ result: LoadResult; cpu: CpuUsed }> {
  return measuredLoad({ url: `http://127.0.0.1:${opts.port}/floor`, pids: { server: opts.serverPid, postgres: opts.postgresPid }, ...opts });
}

/** AUTO_INTENT sent to `url` by `concurrency` clients, with the CPU of `pids` sampled over the measured window. */
async function measuredLoad(opts: {
  url: string | string[];
  headers?: Record<string, string>;
  pids: Record<string, number>;
} & LoadWindow): Promise<{ result: LoadResult; cpu: CpuUsed }> {
  const cpu = cpuSampler(opts.pids, opts.databaseUrl);
  const result = await runLoad({
    url: opts.url,
    ...(opts.headers ? { headers: opts.headers } : {}),
    body: () => AUTO_INTENT,
    concurrency: opts.concurrency,
    durationMs: opts.durationMs,
    warmupMs: opts.warmupMs ?? 2_000,
    okStatus: 201,
    onMeasureStart: () => cpu.start(),
  });
  return { result, cpu: await cpu.stop() };
}
