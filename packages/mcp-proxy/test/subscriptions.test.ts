import path from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ResourceUpdatedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { loadMapping, startMcpProxy, type RunningProxy } from '../src/index.ts';
import { textOf } from './support/harness.ts';

// Over HTTP the proxy's sessions share one upstream connection, so one upstream subscription.
// A resource update goes to the sessions that subscribed to it, not to every client; and one
// client unsubscribing does not end another's subscription.

const SERVER = path.join(import.meta.dirname, 'support', 'subscriptions-server.ts');
let proxy: RunningProxy;
const clients: Client[] = [];

beforeAll(async () => {
  proxy = await startMcpProxy({
    mapping: loadMapping('version: 1\ntools:\n  - match: touch\n    passthrough: true\n', 'mapping.yaml'),
    countersign: { url: 'http://127.0.0.1:1', apiKey: 'cs_unused_key' },
    upstream: { command: process.execPath, args: ['--import', 'tsx', SERVER] },
    listen: { host: '127.0.0.1', port: 0 },
  });
}, 60_000);
afterAll(async () => {
  for (const client of clients) await client.close().catch(() => undefined);
  await proxy?.close();
});

async function connect(): Promise<{ client: Client; updates: string[]; next(): Promise<void> }> {
  const client = new Client({ name: 'agent', version: '1.0.0' });
  const updates: string[] = [];
  let wake: (() => void) | undefined;
  client.setNotificationHandler(ResourceUpdatedNotificationSchema, (n) => {
    updates.push(n.params.uri);
    wake?.();
  });
  await client.connect(new StreamableHTTPClientTransport(new URL(proxy.url!)));
  clients.push(client);
  const next = () => new Promise<void>((resolve) => (wake = resolve));
  return { client, updates, next };
}

it('an update reaches the subscriber only; another client unsubscribing does not end the subscription', async () => {
  const alice = await connect();
  const bob = await connect();
  await alice.client.subscribeResource({ uri: 'docs://report' });

  let arrived = alice.next();
  expect(textOf((await bob.client.callTool({ name: 'touch', arguments: {} })) as never)).toBe('touched, notified');
  await arrived;
  expect(alice.updates).toEqual(['docs://report']);

  // Bob, who never subscribed, unsubscribes: Alice still hears of the next change.
  await bob.client.unsubscribeResource({ uri: 'docs://report' });
  arrived = alice.next();
  expect(textOf((await bob.client.callTool({ name: 'touch', arguments: {} })) as never)).toBe('touched, notified');
  await arrived;
  expect(alice.updates).toEqual(['docs://report', 'docs://report']);
  // Bob's own round trip after both updates: nothing about Alice's subscription reached him.
  await bob.client.ping();
  expect(bob.updates).toEqual([]);
}, 60_000);
