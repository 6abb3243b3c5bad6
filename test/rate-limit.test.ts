import { randomInt } from 'node:crypto';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ServiceModule } from '@countersign/modules';
import { parseSettings } from '../apps/server/src/settings.ts';
import { waitFor } from './fakes/fake-channel.ts';
import { redisUrlForTests } from './support/database.ts';
import { intents, startTestService, type ApiResponse, type TestService } from './support/service.ts';

// Request budgets (apps/server/src/http/rate-limit.ts) with real Redis: processes share them,
// a spent budget answers 429 problem+json with Retry-After and does nothing, another key or
// address keeps its own, X-Forwarded-For counts only from a trusted proxy, probes and chat
// webhooks are exempt, and a Redis that is away or silent never takes the API down.

const REDIS_PORT = Number(new URL(redisUrlForTests()).port);

/** A client address of this test's own (budgets live in the suite's shared Redis). */
const address = () => `198.51.100.${randomInt(1, 255)}`;

/** A chat webhook route, as the Slack module would register it. */
const chatWebhook: ServiceModule = {
  name: 'fake-chat-webhook',
  register(ctx) {
    ctx.app.post('/slack/events', async () => ({ ok: true }));
  },
};

function expectRateLimited(res: ApiResponse, scope: 'api_key' | 'client_address'): void {
  expect(res.status, res.text).toBe(429);
  expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  expect(res.body).toMatchObject({ code: 'rate_limited', status: 429, title: 'Too many requests', scope });
  const retryAfter = Number(res.headers.get('retry-after'));
  expect(Number.isInteger(retryAfter) && retryAfter >= 1 && retryAfter <= 60, `Retry-After ${res.headers.get('retry-after')}`).toBe(true);
  expect(res.body.retryAfterSeconds).toBe(retryAfter);
  expect(res.headers.get('x-request-id')).toBe(res.body.requestId);
}

describe('budgets shared across processes', () => {
  let a: TestService;
  let b: TestService;
  const env = { COUNTERSIGN_RATE_LIMIT_PER_KEY: '4', COUNTERSIGN_RATE_LIMIT_PER_IP: '3', COUNTERSIGN_TRUST_PROXY: 'true' };
  beforeAll(async () => {
    a = await startTestService({ env, modules: [chatWebhook] });
    b = await startTestService({ env, databaseUrl: a.databaseUrl, modules: [chatWebhook] });
  });
  afterAll(async () => {
    await b?.stop();
    await a?.stop();
  });

  it('two processes spend one budget per API key; over it, 429 problem+json with Retry-After, and nothing done', async () => {
    const token = a.tokens['deploy-bot']!;
    const remaining: (string | null)[] = [];
    for (const t of [a, b, a, b]) {
      const res = await t.api('GET', '/v1/actions', { token });
      expect(res.status, res.text).toBe(200);
      remaining.push(res.headers.get('x-ratelimit-remaining'));
    }
    expect(remaining).toEqual(['3', '2', '1', '0']);

    const before = await a.prisma.action.count();
    const refused = await b.api('POST', '/v1/actions', { token, body: intents.read });
    expectRateLimited(refused, 'api_key');
    expect(refused.body.limit).toBe(4);
    expectRateLimited(await a.api('GET', '/v1/actions', { token }), 'api_key');
    // Refused before anything ran: no action was submitted.
    expect(await a.prisma.action.count()).toBe(before);
  });

  it('another API key keeps its own budget', async () => {
    const spent = b.tokens.alice!;
    for (let i = 0; i < 4; i++) expect((await b.api('GET', '/v1/actions', { token: spent })).status).toBe(200);
    expectRateLimited(await a.api('GET', '/v1/actions', { token: spent }), 'api_key');
    expect((await a.api('GET', '/v1/actions', { token: a.tokens.bob! })).status).toBe(200);
  });

  it('requests without an API key spend their client address’s budget (X-Forwarded-For from a trusted proxy)', async () => {
    const client = address();
    const jwks = (t: TestService, from: string) => t.api('GET', '/.well-known/jwks.json', { headers: { 'x-forwarded-for': from } });
    for (const t of [a, b, a]) expect((await jwks(t, client)).status).toBe(200);
    expectRateLimited(await jwks(b, client), 'client_address');
    // A bad credential is no API key either: the same address budget.
    expectRateLimited(await a.api('GET', '/v1/actions', { token: 'not-a-key', headers: { 'x-forwarded-for': client } }), 'client_address');
    let other = address();
    while (other === client) other = address();
    expect((await jwks(a, other)).status).toBe(200);
  });

  it('probes and chat webhooks are never limited', async () => {
    const client = address();
    for (let i = 0; i < 3; i++) await a.api('GET', '/.well-known/jwks.json', { headers: { 'x-forwarded-for': client } });
    expectRateLimited(await a.api('GET', '/.well-known/jwks.json', { headers: { 'x-forwarded-for': client } }), 'client_address');
    for (const route of ['/healthz', '/readyz', '/metrics']) {
      expect((await a.api('GET', route, { headers: { 'x-forwarded-for': client } })).status, route).toBe(200);
    }
    expect((await a.api('POST', '/slack/events', { body: {}, headers: { 'x-forwarded-for': client } })).status).toBe(200);
    expect(Number(/^countersign_http_rate_limited_total\{scope="client_address"\} (\d+)$/m.exec((await a.api('GET', '/metrics')).text)?.[1])).toBeGreaterThan(0);
  });
});

describe('COUNTERSIGN_TRUST_PROXY', () => {
  const trust = (value?: string) =>
    parseSettings({ DATABASE_URL: 'postgres://x/y', REDIS_URL: 'redis://x', ...(value === undefined ? {} : { COUNTERSIGN_TRUST_PROXY: value }) }).COUNTERSIGN_TRUST_PROXY;

  it('is false by default, or true, a hop count, or the proxies’ addresses; anything else stops the service naming it', () => {
    expect(trust()).toBe(false);
    expect(trust('true')).toBe(true);
    expect(trust('1')).toBe(1);
    expect(trust('10.0.0.0/8, 192.168.1.10,::1')).toEqual(['10.0.0.0/8', '192.168.1.10', '::1']);
    expect(() => trust('10.0.0.0/8,proxy.internal')).toThrow(/entry 2 is not an IP address[\s\S]*COUNTERSIGN_TRUST_PROXY/);
    expect(() => trust('10.0.0.0/8/1')).toThrow(/COUNTERSIGN_TRUST_PROXY/);
  });
});

describe('an untrusted X-Forwarded-For', () => {
  let t: TestService;
  beforeAll(async () => {
    t = await startTestService({ env: { COUNTERSIGN_RATE_LIMIT_PER_IP: '3' } });
  });
  afterAll(async () => {
    await t?.stop();
  });

  it('is ignored: a client cannot buy a fresh budget by naming another address', async () => {
    const answers: number[] = [];
    for (let i = 0; i < 4; i++) answers.push((await t.api('GET', '/.well-known/jwks.json', { headers: { 'x-forwarded-for': address() } })).status);
    // The peer address (127.0.0.1) spent at least the three allowed: the fourth is refused.
    expect(answers[3]).toBe(429);
  });
});

/** A loopback proxy to Redis that can refuse connections (cut) or hold every byte (stall). */
async function startRedisProxy(): Promise<{ url: string; cut(): void; stall(): void; restore(): void; close(): Promise<void> }> {
  const pairs = new Set<[net.Socket, net.Socket]>();
  let mode: 'up' | 'cut' | 'stalled' = 'up';
  const server = net.createServer((client) => {
    if (mode === 'cut') return void client.destroy();
    const upstream = net.connect(REDIS_PORT, '127.0.0.1');
    const pair: [net.Socket, net.Socket] = [client, upstream];
    pairs.add(pair);
    client.pipe(upstream).pipe(client);
    if (mode === 'stalled') for (const s of pair) s.pause();
    const end = () => {
      client.destroy();
      upstream.destroy();
      pairs.delete(pair);
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    url: `redis://127.0.0.1:${port}`,
    cut() {
      mode = 'cut';
      for (const pair of pairs) for (const s of pair) s.destroy();
    },
    // Connections stay open and nothing answers: what a network partition looks like.
    stall() {
      mode = 'stalled';
      for (const pair of pairs) for (const s of pair) s.pause();
    },
    restore() {
      mode = 'up';
      for (const pair of pairs) for (const s of pair) s.resume();
    },
    close: () =>
      new Promise<void>((resolve) => {
        mode = 'cut';
        for (const pair of pairs) for (const s of pair) s.destroy();
        server.close(() => resolve());
      }),
  };
}

describe('Redis away', () => {
  let proxy: Awaited<ReturnType<typeof startRedisProxy>>;
  let t: TestService;
  beforeAll(async () => {
    proxy = await startRedisProxy();
    t = await startTestService({ env: { REDIS_URL: proxy.url, COUNTERSIGN_RATE_LIMIT_PER_KEY: '2' } });
  });
  afterAll(async () => {
    await t?.stop();
    await proxy?.close();
  });

  const skipped = async () => Number(/^countersign_rate_limit_errors_total (\d+)$/m.exec((await t.api('GET', '/metrics')).text)?.[1] ?? 'NaN');

  it('serves every request while Redis is down or silent, counts them, and limits again once it is back', async () => {
    const token = t.tokens['deploy-bot']!;
    for (let i = 0; i < 2; i++) expect((await t.api('GET', '/v1/actions', { token })).status).toBe(200);
    expectRateLimited(await t.api('GET', '/v1/actions', { token }), 'api_key');
    const skippedBefore = await skipped();

    proxy.cut();
    try {
      // Over budget, but the budget cannot be read: Postgres decides, the API keeps answering.
      for (let i = 0; i < 3; i++) {
        const res = await t.api('POST', '/v1/actions', { token, body: intents.read });
        expect(res.status, res.text).toBe(201);
        expect(res.body.status).toBe('approved');
      }
      expect(await skipped()).toBe(skippedBefore + 3);
    } finally {
      proxy.restore();
    }
    // Back: the budget spent before the outage still stands.
    await waitFor('limits checked again', async () => (await t.api('GET', '/v1/actions', { token })).status === 429, 30_000, 200);

    proxy.stall();
    try {
      const before = await skipped();
      expect((await t.api('GET', '/v1/actions', { token })).status).toBe(200);
      expect(await skipped()).toBe(before + 1);
    } finally {
      proxy.restore();
    }
  });
});
