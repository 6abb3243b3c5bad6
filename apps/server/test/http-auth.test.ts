import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import pg from 'pg';
import { buildHttpApp } from '../src/http/app.ts';
import { authOf, bearerAuth, bearerToken } from '../src/http/auth.ts';

interface Caller {
  principal: string;
}

describe('bearerToken', () => {
  it('extracts the token and names what is wrong otherwise', () => {
    expect(bearerToken('Bearer abc.DEF-_~+/=')).toBe('abc.DEF-_~+/=');
    expect(bearerToken('bearer   abc')).toBe('abc');
    for (const bad of [undefined, '', '   ', 'Basic dXNlcjpwYXNz', 'Bearer', 'Bearer ', 'Bearer a b', 'Bearerabc', 'Bearer ' + 'a'.repeat(5000)]) {
      const out = bearerToken(bad);
      expect(typeof out, String(bad).slice(0, 20)).not.toBe('string');
    }
  });
});

describe('bearerAuth', () => {
  let app: FastifyInstance;
  let seen: string[];
  let deadPort: number;

  beforeAll(async () => {
    const srv = net.createServer();
    await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
    deadPort = (srv.address() as net.AddressInfo).port;
    await new Promise<void>((resolve) => srv.close(() => resolve()));

    seen = [];
    app = buildHttpApp({ logger: { level: 'silent' }, readinessChecks: [] });
    const auth = bearerAuth<Caller>(async (token) => {
      seen.push(token);
      if (token === 'good-token') return { principal: 'agent:deployer' };
      if (token === 'db-down') {
        // The key store is unreachable: a real pg connection error, not a fake.
        await new pg.Client({ host: '127.0.0.1', port: deadPort, connectionTimeoutMillis: 5000 }).connect();
      }
      if (token === 'bug') throw new Error('key store bug with secret detail');
      return null;
    });
    app.get('/whoami', { preHandler: auth }, async (request) => ({ caller: authOf<Caller>(request).principal }));
    // A route that forgot its preHandler must refuse, not act for nobody.
    app.get('/forgot', async (request) => ({ caller: authOf<Caller>(request) }));
    await app.ready();
  });
  afterAll(() => app.close());

  it('lets a valid token through and exposes its context', async () => {
    const res = await app.inject({ method: 'GET', url: '/whoami', headers: { authorization: 'Bearer good-token' } });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ caller: 'agent:deployer' });
  });

  const refusals: [string, Record<string, string>, string][] = [
    ['missing header', {}, 'Bearer realm="countersign"'],
    ['wrong scheme', { authorization: 'Basic Z29vZC10b2tlbg==' }, 'Bearer realm="countersign"'],
    ['empty token', { authorization: 'Bearer ' }, 'Bearer realm="countersign"'],
    ['rejected token', { authorization: 'Bearer wrong-token' }, 'Bearer realm="countersign", error="invalid_token"'],
  ];
  for (const [name, headers, challenge] of refusals) {
    it(`refuses a ${name} with 401 unauthenticated and a Bearer challenge`, async () => {
      const res = await app.inject({ method: 'GET', url: '/whoami', headers });
      expect(res.statusCode).toBe(401);
      expect(res.headers['www-authenticate']).toBe(challenge);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(res.json()).toMatchObject({ code: 'unauthenticated', status: 401 });
    });
  }

  it('never calls authenticate without a well-formed token', async () => {
    seen.length = 0;
    await app.inject({ method: 'GET', url: '/whoami', headers: { authorization: 'Basic good-token' } });
    await app.inject({ method: 'GET', url: '/whoami', headers: { authorization: 'Bearer good token' } });
    expect(seen).toEqual([]);
  });

  it('fails closed with 503 when the credential store is unreachable', async () => {
    const res = await app.inject({ method: 'GET', url: '/whoami', headers: { authorization: 'Bearer db-down' } });
    expect(res.statusCode).toBe(503);
    expect(res.headers['retry-after']).toBe('5');
    expect(res.json().code).toBe('unavailable');
  });

  it('fails closed with 500 when authenticate has a bug, without its message', async () => {
    const res = await app.inject({ method: 'GET', url: '/whoami', headers: { authorization: 'Bearer bug' } });
    expect(res.statusCode).toBe(500);
    expect(res.body).not.toContain('secret detail');
  });

  it('refuses a route that reads auth without having authenticated', async () => {
    const res = await app.inject({ method: 'GET', url: '/forgot', headers: { authorization: 'Bearer good-token' } });
    expect(res.statusCode).toBe(401);
    expect(res.json().code).toBe('unauthenticated');
  });

  it('refuses two Authorization headers with 400, whichever comes first', async () => {
    const address = await app.listen({ host: '127.0.0.1', port: 0 });
    const { port } = new URL(address);
    for (const order of [['good-token', 'wrong-token'], ['wrong-token', 'good-token']]) {
      const raw = await new Promise<string>((resolve, reject) => {
        const socket = net.connect(Number(port), '127.0.0.1', () => {
          socket.write(`GET /whoami HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${order[0]}\r\nAuthorization: Bearer ${order[1]}\r\nConnection: close\r\n\r\n`);
        });
        let data = '';
        socket.on('data', (chunk) => (data += chunk));
        socket.on('end', () => resolve(data));
        socket.on('error', reject);
      });
      expect(raw).toMatch(/^HTTP\/1\.1 400 /);
      expect(raw).toMatch(/content-type: application\/problem\+json/i);
      expect(raw).toContain('"code":"invalid_request"');
    }
  });
});
