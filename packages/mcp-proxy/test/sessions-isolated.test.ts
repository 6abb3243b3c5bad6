import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { EmptyResultSchema, ErrorCode, LoggingMessageNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { z } from 'zod';
import { loadMapping, startMcpProxy, type RunningProxy } from '../src/index.ts';

// Over HTTP the proxy serves many clients (sessions) through one upstream connection. What the
// upstream logs while it runs one client's call (arguments, results) is that client's business:
// it must not be relayed to every other client of the proxy.

let upstream: http.Server;
const upstreamMethods: string[] = [];
let proxy: RunningProxy;
const clients: Client[] = [];

beforeAll(async () => {
  // An upstream that logs what it does while it runs a tool call (stateless Streamable HTTP).
  upstream = http.createServer(async (req, res) => {
    // What the proxy asks of the upstream, by method.
    let body: unknown;
    if (req.method === 'POST') {
      let text = '';
      for await (const chunk of req) text += String(chunk);
      body = JSON.parse(text) as unknown;
      for (const m of [body].flat() as { method?: string }[]) if (m.method) upstreamMethods.push(m.method);
    }
    const server = new McpServer({ name: 'payroll', version: '1.0.0' }, { capabilities: { logging: {} } });
    server.registerTool('lookup_salary', { description: 'Looks up a salary', inputSchema: { person: z.string() } }, async ({ person }, extra) => {
      await extra.sendNotification({ method: 'notifications/message', params: { level: 'info', data: `salary of ${person}: 123456` } });
      return { content: [{ type: 'text', text: 'done' }] };
    });
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
    res.on('close', () => void transport.close());
    await server.connect(transport);
    await transport.handleRequest(req, res, body);
  });
  await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
  proxy = await startMcpProxy({
    mapping: loadMapping('version: 1\ntools:\n  - match: lookup_salary\n    passthrough: true\n', 'mapping.yaml'),
    countersign: { url: 'http://127.0.0.1:1', apiKey: 'cs_unused_key' },
    upstream: { url: `http://127.0.0.1:${(upstream.address() as AddressInfo).port}/mcp` },
    listen: { host: '127.0.0.1', port: 0 },
  });
});
afterAll(async () => {
  for (const client of clients) await client.close().catch(() => undefined);
  await proxy?.close();
  upstream?.closeAllConnections();
  await new Promise<void>((resolve) => (upstream ? upstream.close(() => resolve()) : resolve()));
});

async function connect(): Promise<{ client: Client; logs: unknown[] }> {
  const client = new Client({ name: 'agent', version: '1.0.0' });
  const logs: unknown[] = [];
  client.setNotificationHandler(LoggingMessageNotificationSchema, (n) => void logs.push(n.params.data));
  await client.connect(new StreamableHTTPClientTransport(new URL(proxy.url!)));
  clients.push(client);
  return { client, logs };
}

it("what the upstream logs during one client's call never reaches another client", async () => {
  const alice = await connect();
  const bob = await connect();
  await alice.client.callTool({ name: 'lookup_salary', arguments: { person: 'carol' } });
  // Bob's own call afterwards: anything relayed to him for Alice's call arrived before its answer.
  await bob.client.callTool({ name: 'lookup_salary', arguments: { person: 'dave' } });
  expect(bob.logs.filter((data) => String(data).includes('carol'))).toEqual([]);
});

it("one client cannot set the upstream's log level for every client (found by review)", async () => {
  // Over HTTP no session is sent the upstream's log messages (above), so the proxy declares no
  // logging, and a setLevel is answered here instead of changing the level the upstream uses
  // for all of them.
  const alice = await connect();
  expect(alice.client.getServerCapabilities()?.logging).toBeUndefined();
  const refused = await alice.client.request({ method: 'logging/setLevel', params: { level: 'debug' } }, EmptyResultSchema).then(
    () => 'accepted',
    (err: { code?: number }) => err.code,
  );
  expect(refused).toBe(ErrorCode.MethodNotFound);
  expect(upstreamMethods).toContain('tools/call');
  expect(upstreamMethods).not.toContain('logging/setLevel');
});
