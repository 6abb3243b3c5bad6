import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { classify, send, webhookSecretFor } from '../src/index.ts';
import { startReceiver, type Receiver } from './receiver.ts';

describe('classify', () => {
  it('2xx delivers; 408, 429 and 5xx retry (with Retry-After); other statuses give up', () => {
    expect(classify(200)).toEqual({ outcome: 'delivered', status: 200 });
    expect(classify(204).outcome).toBe('delivered');
    expect(classify(503, '7')).toEqual({ outcome: 'retry', status: 503, error: 'HTTP 503', retryAfterMs: 7000 });
    expect(classify(500).outcome).toBe('retry');
    expect(classify(408).outcome).toBe('retry');
    expect(classify(429).outcome).toBe('retry');
    expect(classify(400)).toEqual({ outcome: 'give_up', status: 400, error: 'HTTP 400' });
    expect(classify(404).outcome).toBe('give_up');
    expect(classify(410).outcome).toBe('give_up');
    expect(classify(302)).toMatchObject({ outcome: 'give_up', error: expect.stringMatching(/redirects are not followed/) });
  });
});

describe('webhookSecretFor', () => {
  it('differs per key and per master, and is stable', () => {
    const master = Buffer.from('m'.repeat(32));
    expect(webhookSecretFor(master, 'key_a')).toBe(webhookSecretFor(master, 'key_a'));
    expect(webhookSecretFor(master, 'key_a')).not.toBe(webhookSecretFor(master, 'key_b'));
    expect(webhookSecretFor(Buffer.from('n'.repeat(32)), 'key_a')).not.toBe(webhookSecretFor(master, 'key_a'));
    expect(webhookSecretFor(master, 'key_a')).toMatch(/^whsec_[A-Za-z0-9_-]{43}$/);
  });
});

describe('send', () => {
  let allowed: Receiver;
  let elsewhere: Receiver;
  beforeAll(async () => {
    allowed = await startReceiver();
    elsewhere = await startReceiver();
  });
  afterAll(async () => {
    await allowed?.close();
    await elsewhere?.close();
  });

  // Webhooks and held execution both go out through send(): the allow-list vetted this URL,
  // so a redirect to anywhere else must end the delivery, not be followed.
  it.each([301, 302, 303, 307, 308])('does not follow a %i redirect: gives up with that status', async (status) => {
    allowed.redirect(`/moved-${status}`, `${elsewhere.url}/target-${status}`, status);
    const result = await send({ url: `${allowed.url}/moved-${status}`, method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}', timeoutMs: 2_000 });
    expect(result).toEqual({ outcome: 'give_up', status, error: `HTTP ${status}: redirects are not followed` });
    expect(allowed.to(`/moved-${status}`)).toHaveLength(1);
    expect(elsewhere.requests).toHaveLength(0);
  });

  it('delivers on 2xx and retries a 5xx or an unreachable host', async () => {
    allowed.respond('/flaky', [503, 200]);
    const req = { url: `${allowed.url}/flaky`, method: 'POST', headers: {}, body: '{}', timeoutMs: 2_000 };
    expect(await send(req)).toEqual({ outcome: 'retry', status: 503, error: 'HTTP 503' });
    expect(await send(req)).toEqual({ outcome: 'delivered', status: 200 });
    const closed = await startReceiver();
    await closed.close();
    expect(await send({ ...req, url: `${closed.url}/x` })).toMatchObject({ outcome: 'retry', status: null, error: 'network: ECONNREFUSED' });
  });

  // An allowed *name* must not lead into our own network: `localhost` resolves to loopback,
  // which no entry names literally, so nothing is sent and retrying cannot help.
  it('refuses a name that resolves to an internal address, sending nothing', async () => {
    const before = allowed.requests.length;
    const port = new URL(allowed.url).port;
    const result = await send({ url: `http://localhost:${port}/hook`, method: 'POST', headers: {}, body: '{}', timeoutMs: 2_000 });
    expect(result).toEqual({ outcome: 'give_up', status: null, error: 'refused: the destination resolves to an internal address' });
    expect(allowed.requests.length).toBe(before);
  });
});

