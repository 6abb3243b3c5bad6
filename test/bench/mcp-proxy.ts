import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { startMcpProxy } from '../../packages/mcp-proxy/src/index.ts';
import { testMapping } from '../../packages/mcp-proxy/test/support/harness.ts';
import { startHttpEnvironments } from '../../packages/mcp-proxy/test/support/environments-server.ts';
import { percentile } from './loadgen.ts';

export interface McpProxyBenchResult {
  calls: number;
  direct: { p50Ms: number; p95Ms: number; meanMs: number };
  proxied: { p50Ms: number; p95Ms: number; meanMs: number };
  /** proxied p50 − direct p50: what the gate adds to one auto-approved call. */
  addedP50Ms: number;
  /** proxied p50 / direct p50, in the same run. */
  ratioP50: number;
}

/**
 * The MCP proxy's added latency per auto-approved tools/call, against a direct call to the same
 * MCP server, in the same run: an MCP SDK Client calls `list_environments` (mapped to a read,
 * which the fixture policy approves at once) directly and through the proxy, alternating, one
 * call at a time, over Streamable HTTP. Each proxied call is a real submission to countersign
 * (`countersignUrl`, with `apiKey` as the proxy's agent key) plus the forwarded call.
 */
export async function measureMcpProxyOverhead(opts: { countersignUrl: string; apiKey: string; calls?: number; warmup?: number }): Promise<McpProxyBenchResult> {
  const calls = opts.calls ?? 300;
  const warmup = opts.warmup ?? 30;
  const upstream = await startHttpEnvironments();
  const proxy = await startMcpProxy({
    mapping: testMapping(),
    countersign: { url: opts.countersignUrl, apiKey: opts.apiKey },
    upstream: { url: upstream.url },
    listen: { host: '127.0.0.1', port: 0 },
  });
  const direct = new Client({ name: 'bench-direct', version: '1.0.0' });
  const proxied = new Client({ name: 'bench-proxied', version: '1.0.0' });
  try {
    await direct.connect(new StreamableHTTPClientTransport(new URL(upstream.url)));
    await proxied.connect(new StreamableHTTPClientTransport(new URL(proxy.url!)));
    const timed = async (client: Client): Promise<number> => {
      const started = performance.now();
      const result = await client.callTool({ name: 'list_environments', arguments: { region: 'eu' } });
      if (result.isError) throw new Error(`the call failed: ${JSON.stringify(result.content)}`);
      return performance.now() - started;
    };
    for (let i = 0; i < warmup; i++) {
      await timed(direct);
      await timed(proxied);
    }
    const d: number[] = [];
    const p: number[] = [];
    // Alternating, so both see the same machine load.
    for (let i = 0; i < calls; i++) {
      d.push(await timed(direct));
      p.push(await timed(proxied));
    }
    const summary = (xs: number[]) => {
      const sorted = [...xs].sort((a, b) => a - b);
      return { p50Ms: round(percentile(sorted, 50)), p95Ms: round(percentile(sorted, 95)), meanMs: round(xs.reduce((a, b) => a + b, 0) / xs.length) };
    };
    const ds = summary(d);
    const ps = summary(p);
    return { calls, direct: ds, proxied: ps, addedP50Ms: round(ps.p50Ms - ds.p50Ms), ratioP50: round(ps.p50Ms / ds.p50Ms) };
  } finally {
    await direct.close().catch(() => undefined);
    await proxied.close().catch(() => undefined);
    await proxy.close();
    await upstream.close();
  }
}

/** One line for the bench table. */
export function formatMcpProxyBench(r: McpProxyBenchResult): string {
  return `MCP proxy, auto-approved tools/call (${r.calls} calls, Streamable HTTP): direct p50 ${r.direct.p50Ms} ms, through the proxy p50 ${r.proxied.p50Ms} ms (p95 ${r.proxied.p95Ms} ms): +${r.addedP50Ms} ms, ×${r.ratioP50}`;
}

function round(x: number): number {
  return Math.round(x * 100) / 100;
}
