import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMcpProxy, type RunningProxy } from '../src/index.ts';
import { startHttpEnvironments } from './support/environments-server.ts';
import { testMapping } from './support/harness.ts';

// The proxy's own HTTP surface, as a hostile or broken client sees it: every bad request gets a
// 4xx JSON-RPC error that says what is wrong, never a 5xx, and nothing reaches countersign or the
// upstream. No countersign is needed: none of these requests gets as far as a tool call.

let upstream: Awaited<ReturnType<typeof startHttpEnvironments>>;
let proxy: RunningProxy;
let url: URL;
beforeAll(async () => {
  upstream = await startHttpEnvironments();
  proxy = await startMcpProxy({
    mapping: testMapping(),
    countersign: { url: 'http://127.0.0.1:1', apiKey: 'cs_unused_key' },
    upstream: { url: upstream.url },
    listen: { host: '127.0.0.1', port: 0 },
  });
  url = new URL(proxy.url!);
});
afterAll(async () => {
  await proxy?.close();
  await upstream?.close();
});

/** Sends raw bytes and returns the status line's code and the body. */
function raw(request: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(url.port), url.hostname, () => socket.end(request));
    let data = '';
    socket.on('data', (chunk) => (data += chunk.toString('utf8')));
    socket.on('error', reject);
    socket.on('close', () => resolve({ status: Number(/^HTTP\/1\.1 (\d{3})/.exec(data)?.[1] ?? 0), body: data.slice(data.indexOf('\r\n\r\n') + 4) }));
  });
}

const initialize = { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'x', version: '1' } } };
const post = (body: string) =>
  fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' }, body }).then(async (res) => ({ status: res.status, body: await res.text() }));

describe('mcp-proxy HTTP listener, bad requests', () => {
  it('a request target that is not a URL is a 4xx, not a 500', async () => {
    for (const target of ['//[', 'http://x:99999/mcp']) {
      const res = await raw(`POST ${target} HTTP/1.1\r\nHost: ${url.host}\r\nContent-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}`);
      expect(res.status, target).toBeGreaterThanOrEqual(400);
      expect(res.status, target).toBeLessThan(500);
    }
  });

  it('an initialize that is not JSON is a parse error (400, -32700)', async () => {
    const res = await post('{"jsonrpc": "2.0", "id": 1, "method": "initialize"');
    expect(res.status).toBe(400);
    expect(JSON.parse(res.body).error.code).toBe(-32700);
  });

  it('an initialize over the size limit is 413', async () => {
    const res = await post(JSON.stringify({ ...initialize, params: { ...initialize.params, padding: 'x'.repeat(5 * 1024 * 1024) } }));
    expect(res.status).toBe(413);
  });

  it('anything but initialize without a session says to initialize first (400)', async () => {
    const res = await post(JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'delete_environment', arguments: {} } }));
    expect(res.status).toBe(400);
    expect(JSON.parse(res.body).error.message).toMatch(/initialize/);
    expect(upstream.calls).toEqual([]);
  });

  it('a well-formed initialize still opens a session', async () => {
    const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' }, body: JSON.stringify(initialize) });
    expect(res.status).toBe(200);
    expect(res.headers.get('mcp-session-id')).toMatch(/^[0-9a-f-]{36}$/);
    await res.text();
  });
});

describe('mcp-proxy HTTP listener, who may connect', () => {
  it('refuses to listen beyond loopback without a token (anyone on the network would act as the proxy)', async () => {
    await expect(
      startMcpProxy({ mapping: testMapping(), countersign: { url: 'http://127.0.0.1:1', apiKey: 'cs_unused_key' }, upstream: { url: upstream.url }, listen: { host: '0.0.0.0', port: 0 } }),
    ).rejects.toThrow(/token/);
  });

  it('with a token, a request without it or with another is 401', async () => {
    const guarded = await startMcpProxy({
      mapping: testMapping(),
      countersign: { url: 'http://127.0.0.1:1', apiKey: 'cs_unused_key' },
      upstream: { url: upstream.url },
      listen: { host: '127.0.0.1', port: 0, token: 'proxy-token-123' },
    });
    try {
      const headers = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
      for (const authorization of [undefined, 'Bearer proxy-token-12', 'Bearer proxy-token-1234', 'Basic proxy-token-123']) {
        const res = await fetch(guarded.url!, { method: 'POST', headers: { ...headers, ...(authorization ? { authorization } : {}) }, body: JSON.stringify(initialize) });
        expect(res.status, String(authorization)).toBe(401);
        await res.text();
      }
      const ok = await fetch(guarded.url!, { method: 'POST', headers: { ...headers, authorization: 'Bearer proxy-token-123' }, body: JSON.stringify(initialize) });
      expect(ok.status).toBe(200);
      await ok.text();
    } finally {
      await guarded.close();
    }
  });
});
