import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startTestService, type TestService } from '../../../test/support/service.ts';
import { httpHarness, settleWithin, type ProxyHarness } from './support/harness.ts';

// A client that cancels a tool call while the proxy's submission is still in flight: the server
// created the action, the proxy never saw its id. Nobody waits for it, so it must be withdrawn,
// not left for people to approve.

let t: TestService;
let h: ProxyHarness;
let front: http.Server;
/** Resolves with the created action's id when the first submission reached countersign. */
let created!: Promise<string>;
let release!: () => void;

beforeAll(async () => {
  t = await startTestService();
  let reached!: (id: string) => void;
  created = new Promise((resolve) => (reached = resolve));
  const held = new Promise<void>((resolve) => (release = resolve));
  let first = true;
  // In front of countersign: forwards everything; the first submission's answer is held back.
  front = http.createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const headers = Object.fromEntries(Object.entries(req.headers).filter(([k]) => !['host', 'content-length', 'connection'].includes(k))) as Record<string, string>;
    const upstream = await fetch(t.url + req.url, { method: req.method, headers, ...(chunks.length ? { body: Buffer.concat(chunks) } : {}) });
    const text = await upstream.text();
    if (first && req.method === 'POST' && req.url === '/v1/actions') {
      first = false;
      reached((JSON.parse(text) as { id: string }).id);
      await held;
    }
    if (!res.destroyed) res.writeHead(upstream.status, { 'content-type': upstream.headers.get('content-type') ?? 'application/json' }).end(text);
  });
  await new Promise<void>((resolve) => front.listen(0, '127.0.0.1', resolve));
  h = await httpHarness({ countersignUrl: `http://127.0.0.1:${(front.address() as AddressInfo).port}`, apiKey: t.tokens['deploy-bot']! });
}, 120_000);

afterAll(async () => {
  release?.();
  await h?.close();
  front?.closeAllConnections();
  await new Promise<void>((resolve) => (front ? front.close(() => resolve()) : resolve()));
  await settleWithin(t?.stop() ?? Promise.resolve(), 20_000);
}, 60_000);

it('cancelled while the submission is in flight: the action is withdrawn and nothing is forwarded', async () => {
  const controller = new AbortController();
  const call = h.client.callTool({ name: 'delete_environment', arguments: { name: 'env/prod-cut-1', environment: 'production' } }, undefined, { signal: controller.signal });
  const outcome = call.then(() => 'answered', () => 'rejected');
  const id = await created;
  controller.abort('the user changed their mind');
  expect(await outcome).toBe('rejected');
  // Read as its requester until final: withdrawn by the proxy, never approved or left pending.
  let action: { status: string; decisionReason?: string };
  do {
    action = (await t.api('GET', `/v1/actions/${id}?wait=20`, { token: t.tokens['deploy-bot']! })).body;
  } while (action.status === 'pending');
  expect(action.status).toBe('cancelled');
  expect(action.decisionReason).toMatch(/cancelled the tool call/);
  release();
  expect(h.calls()).toEqual([]);
});
