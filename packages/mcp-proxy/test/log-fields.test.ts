import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startMcpProxy, type RunningProxy } from '../src/index.ts';
import { startHttpEnvironments } from './support/environments-server.ts';
import { testMapping } from './support/harness.ts';

// The tool name is the one thing a client controls that the proxy logs. MCP tool names are at
// most 128 characters; a hostile client sending megabyte names must not write megabyte log lines
// (one per call, as fast as it can send them).

const lines: string[] = [];
let upstream: Awaited<ReturnType<typeof startHttpEnvironments>>;
let proxy: RunningProxy;
let client: Client;
beforeAll(async () => {
  upstream = await startHttpEnvironments();
  const log = (fields: Record<string, unknown>, message: string) => void lines.push(JSON.stringify({ msg: message, ...fields }));
  proxy = await startMcpProxy({
    mapping: testMapping(),
    countersign: { url: 'http://127.0.0.1:1', apiKey: 'cs_unused_key' },
    upstream: { url: upstream.url },
    listen: { host: '127.0.0.1', port: 0 },
    logger: { info: log, warn: log, error: log },
  });
  client = new Client({ name: 'agent', version: '1.0.0' });
  await client.connect(new StreamableHTTPClientTransport(new URL(proxy.url!)));
});
afterAll(async () => {
  await client?.close().catch(() => undefined);
  await proxy?.close();
  await upstream?.close();
});

it('a huge tool name is refused, and logged cut short', async () => {
  const name = `x${'y'.repeat(1_000_000)}`;
  const result = await client.callTool({ name, arguments: {} });
  expect(result.isError).toBe(true);
  expect(lines.length).toBeGreaterThan(0);
  for (const line of lines) expect(line.length).toBeLessThan(1_000);
  expect(JSON.stringify(result).length).toBeLessThan(2_000);
  expect(upstream.calls).toEqual([]);
});
