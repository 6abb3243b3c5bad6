import { afterAll, beforeAll, expect, it } from 'vitest';
import { startMcpProxy, type RunningProxy } from '../src/index.ts';
import { startHttpEnvironments } from './support/environments-server.ts';
import { testMapping } from './support/harness.ts';

// Sessions are bounded: a client that initializes in a loop (and never ends its sessions) cannot
// grow the proxy without end. At the bound the least recently active idle session makes room; a
// session with a request in flight (a held call, an open stream) is never the one closed.

let upstream: Awaited<ReturnType<typeof startHttpEnvironments>>;
let proxy: RunningProxy;
const streams: AbortController[] = [];
// The open streams' responses, held: undici cancels the body of a Response that is garbage
// collected, which closes the request and leaves its session idle (a flaky eviction in CI).
const held: Response[] = [];
beforeAll(async () => {
  upstream = await startHttpEnvironments();
  proxy = await startMcpProxy({
    mapping: testMapping(),
    countersign: { url: 'http://127.0.0.1:1', apiKey: 'cs_unused_key' },
    upstream: { url: upstream.url },
    listen: { host: '127.0.0.1', port: 0, maxSessions: 2 },
  });
});
afterAll(async () => {
  for (const stream of streams) stream.abort();
  await proxy?.close();
  await upstream?.close();
});

const HEADERS = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };

async function initialize(): Promise<{ status: number; session: string | null }> {
  const res = await fetch(proxy.url!, {
    method: 'POST',
    headers: HEADERS,
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'x', version: '1' } } }),
  });
  await res.text();
  return { status: res.status, session: res.headers.get('mcp-session-id') };
}

/** A request in the session (the initialized notification): its status. */
async function use(session: string): Promise<number> {
  const res = await fetch(proxy.url!, { method: 'POST', headers: { ...HEADERS, 'mcp-session-id': session, 'mcp-protocol-version': '2025-06-18' }, body: JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }) });
  await res.text();
  return res.status;
}

/** Opens the session's standalone stream and keeps it open: a request in flight. */
async function openStream(session: string): Promise<void> {
  const controller = new AbortController();
  streams.push(controller);
  const res = await fetch(proxy.url!, { headers: { accept: 'text/event-stream', 'mcp-session-id': session, 'mcp-protocol-version': '2025-06-18' }, signal: controller.signal });
  held.push(res);
  expect(res.status).toBe(200);
}

it('the least recently active idle session makes room; a busy one never does; all busy is 503', async () => {
  const a = (await initialize()).session!;
  const b = (await initialize()).session!;
  expect(await use(a)).toBe(202); // a is now more recent than b

  const c = await initialize();
  expect(c.status).toBe(200);
  expect(await use(b)).toBe(404); // b, the oldest idle, made room
  expect(await use(a)).toBe(202);

  // a is busy (its stream is open) and the oldest: d takes c's place, not a's.
  await openStream(a);
  expect(await use(c.session!)).toBe(202);
  const d = await initialize();
  expect(d.status).toBe(200);
  expect(await use(c.session!)).toBe(404);
  expect(await use(a)).toBe(202);

  // Both sessions busy: no room, and nobody's session is closed for a newcomer.
  await openStream(d.session!);
  const refused = await initialize();
  expect(refused.status).toBe(503);
  expect(await use(a)).toBe(202);
  expect(await use(d.session!)).toBe(202);
});
