import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { EmptyResultSchema, ErrorCode, ListToolsRequestSchema, SetLevelRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { afterEach, expect, it } from 'vitest';
import { Countersign } from '../src/countersign-sdk.ts';
import { loadMapping } from '../src/index.ts';
import { silentLogger } from '../src/logger.ts';
import { createProxyServer } from '../src/proxy-server.ts';

// Whose is the upstream's log level? Over stdio the proxy has one client and relays the
// upstream's log messages to it: the client's logging/setLevel goes to the upstream. Over HTTP
// sessions share the upstream and are sent none of its messages: no logging is declared and
// setLevel stays with the proxy. (Found by review: over stdio the SDK's own handler answered {}
// and the upstream never heard of the level.)

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});

async function connect(opts: { relaysLogs: boolean; upstreamLogs: boolean }) {
  const levels: string[] = [];
  const upstreamServer = new Server({ name: 'payroll', version: '1.0.0' }, { capabilities: opts.upstreamLogs ? { logging: {}, tools: {} } : { tools: {} } });
  upstreamServer.setRequestHandler(ListToolsRequestSchema, async () => ({ tools: [] }));
  if (opts.upstreamLogs) {
    upstreamServer.setRequestHandler(SetLevelRequestSchema, async (request) => {
      levels.push(request.params.level);
      return {};
    });
  }
  const [up, upPeer] = InMemoryTransport.createLinkedPair();
  await upstreamServer.connect(up);
  const upstream = new Client({ name: 'countersign-mcp-proxy', version: '0.1.0' });
  await upstream.connect(upPeer);
  const proxy = createProxyServer({
    upstream,
    mapping: loadMapping('version: 1\ntools:\n  - match: lookup_salary\n    passthrough: true\n', 'mapping.yaml'),
    countersign: new Countersign({ baseUrl: 'http://127.0.0.1:1', apiKey: 'cs_unused_key' }),
    logger: silentLogger,
    relaysLogs: opts.relaysLogs,
  });
  const [down, downPeer] = InMemoryTransport.createLinkedPair();
  await proxy.connect(down);
  const client = new Client({ name: 'agent', version: '1.0.0' });
  await client.connect(downPeer);
  closers.push(async () => {
    await client.close();
    await upstream.close();
  });
  const setLevel = (level: unknown) =>
    client.request({ method: 'logging/setLevel', params: { level } } as never, EmptyResultSchema).then(
      () => ({ ok: true as const }),
      (err: { code?: number; message?: string }) => ({ ok: false as const, code: err.code, message: err.message }),
    );
  return { client, levels, setLevel };
}

it('over stdio, the client sets the level the upstream logs at', async () => {
  const { client, levels, setLevel } = await connect({ relaysLogs: true, upstreamLogs: true });
  expect(client.getServerCapabilities()?.logging).toBeDefined();
  expect(await setLevel('error')).toEqual({ ok: true });
  expect(await setLevel('debug')).toEqual({ ok: true });
  expect(levels).toEqual(['error', 'debug']);
  // A level MCP does not have: -32602 naming the field, and the upstream hears nothing.
  const bad = await setLevel('loud');
  expect(bad).toMatchObject({ ok: false, code: ErrorCode.InvalidParams });
  expect(bad.ok === false && bad.message).toMatch(/params\.level must be one of debug, info/);
  expect(levels).toEqual(['error', 'debug']);
  await client.ping();
});

it('over HTTP, no session sets the shared upstream level', async () => {
  const { client, levels, setLevel } = await connect({ relaysLogs: false, upstreamLogs: true });
  expect(client.getServerCapabilities()?.logging).toBeUndefined();
  expect(await setLevel('debug')).toMatchObject({ ok: false, code: ErrorCode.MethodNotFound });
  expect(levels).toEqual([]);
  await client.ping();
});

it('an upstream without logging declares none through the proxy either way', async () => {
  for (const relaysLogs of [true, false]) {
    const { client, setLevel } = await connect({ relaysLogs, upstreamLogs: false });
    expect(client.getServerCapabilities()?.logging).toBeUndefined();
    expect(await setLevel('debug')).toMatchObject({ ok: false, code: ErrorCode.MethodNotFound });
    await client.ping();
  }
});
