import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { parseSettings, SettingsError } from '../apps/server/src/settings.ts';
import { startTestService, type TestService } from './support/service.ts';

// /metrics tells whoever reads it which rules fire, what is pending and where deliveries go.
// COUNTERSIGN_METRICS_TOKEN makes it require a bearer token; COUNTERSIGN_METRICS_PORT serves it
// on a port of its own and not on the API's. Without either it stays open (the default, for
// `npm start` and a scraper on a private network).

const TOKEN = 'metrics-token-0123456789abcdef0123456789abcdef';
const running: TestService[] = [];
afterEach(async () => {
  for (const t of running.splice(0)) await t.stop();
});

async function start(env: Record<string, string>): Promise<TestService> {
  const t = await startTestService({ env });
  running.push(t);
  return t;
}

/** A port nothing listens on right now (the OS picks it). */
async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

const scrape = (url: string, token?: string) => fetch(url, { headers: token ? { authorization: `Bearer ${token}` } : {} });

describe('/metrics access', () => {
  it('with COUNTERSIGN_METRICS_TOKEN: 401 problem+json without the right bearer token, the metrics with it', async () => {
    const t = await start({ COUNTERSIGN_METRICS_TOKEN: TOKEN });
    const anonymous = await scrape(`${t.url}/metrics`);
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(anonymous.headers.get('www-authenticate')).toMatch(/^Bearer/);
    const body = (await anonymous.json()) as { code: string; detail: string };
    expect(body.code).toBe('unauthenticated');
    expect(body.detail).not.toContain(TOKEN);
    expect((await scrape(`${t.url}/metrics`, `${TOKEN}x`)).status).toBe(401);
    // An API key is not the metrics token.
    expect((await scrape(`${t.url}/metrics`, t.tokens.grace)).status).toBe(401);

    const ok = await scrape(`${t.url}/metrics`, TOKEN);
    expect(ok.status).toBe(200);
    expect(await ok.text()).toContain('countersign_dependency_up');
    // Probes stay open: orchestrators do not carry the token.
    expect((await scrape(`${t.url}/healthz`)).status).toBe(200);
    expect((await scrape(`${t.url}/readyz`)).status).toBe(200);
  });

  it('with COUNTERSIGN_METRICS_PORT: served there only, not on the API port', async () => {
    const port = await freePort();
    const t = await start({ COUNTERSIGN_METRICS_PORT: String(port) });
    expect((await scrape(`${t.url}/metrics`)).status).toBe(404);
    const ok = await scrape(`http://127.0.0.1:${port}/metrics`);
    expect(ok.status).toBe(200);
    expect(ok.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(await ok.text()).toContain('countersign_dependency_up');
    // Nothing but /metrics on that port: not the API, not the probes.
    const other = await scrape(`http://127.0.0.1:${port}/v1/actions`);
    expect(other.status).toBe(404);
    expect(((await other.json()) as { code: string }).code).toBe('not_found');
    expect((await scrape(`${t.url}/healthz`)).status).toBe(200);
  });

  it('both: its own port, and the token required there', async () => {
    const port = await freePort();
    const t = await start({ COUNTERSIGN_METRICS_PORT: String(port), COUNTERSIGN_METRICS_TOKEN: TOKEN });
    expect((await scrape(`${t.url}/metrics`, TOKEN)).status).toBe(404);
    const anonymous = await scrape(`http://127.0.0.1:${port}/metrics`);
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('www-authenticate')).toMatch(/^Bearer/);
    expect(((await anonymous.json()) as { code: string }).code).toBe('unauthenticated');
    expect((await scrape(`http://127.0.0.1:${port}/metrics`, TOKEN)).status).toBe(200);
  });

  it('the port is closed with the service', async () => {
    const port = await freePort();
    const t = await startTestService({ env: { COUNTERSIGN_METRICS_PORT: String(port) } });
    expect((await scrape(`http://127.0.0.1:${port}/metrics`)).status).toBe(200);
    await t.stop();
    await expect(scrape(`http://127.0.0.1:${port}/metrics`)).rejects.toThrow();
  });

  it('without either, /metrics stays open on the API port (the default)', async () => {
    const t = await start({});
    expect((await scrape(`${t.url}/metrics`)).status).toBe(200);
  });
});

describe('metrics settings', () => {
  const base = { DATABASE_URL: 'postgres://x@localhost/db', REDIS_URL: 'redis://localhost:6379' };

  it('a short token stops the service, naming the variable but never the value', () => {
    let err: unknown;
    try {
      parseSettings({ ...base, COUNTERSIGN_METRICS_TOKEN: 'short-secret' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(SettingsError);
    expect((err as Error).message).toContain('COUNTERSIGN_METRICS_TOKEN');
    expect((err as Error).message).not.toContain('short-secret');
    expect(() => parseSettings({ ...base, COUNTERSIGN_METRICS_PORT: '70000' })).toThrow(/COUNTERSIGN_METRICS_PORT/);
  });

  it('empty values leave them unset', () => {
    const s = parseSettings({ ...base, COUNTERSIGN_METRICS_TOKEN: '', COUNTERSIGN_METRICS_PORT: '' });
    expect(s.COUNTERSIGN_METRICS_TOKEN).toBeUndefined();
    expect(s.COUNTERSIGN_METRICS_PORT).toBeUndefined();
    expect(parseSettings({ ...base, COUNTERSIGN_METRICS_PORT: '9464' }).COUNTERSIGN_METRICS_PORT).toBe(9464);
  });
});
