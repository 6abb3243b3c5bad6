import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { z } from 'zod';
import { buildHttpApp } from '../src/http/app.ts';
import { bearerAuth } from '../src/http/auth.ts';
import { genReqId, loggerOptions, sanitizeUrl } from '../src/http/logging.ts';

const TOKEN = 'csk_live_SUPERSECRETTOKEN123';
const INTENT_MARKER = 'delete-prod-cluster-eu-west-7';

describe('request ids', () => {
  let app: FastifyInstance;
  beforeAll(async () => {
    app = buildHttpApp({ logger: { level: 'silent' }, readinessChecks: [] });
    app.get('/id', async (request) => ({ id: request.id }));
    await app.ready();
  });
  afterAll(() => app.close());

  it('keeps a sane incoming x-request-id and echoes it', async () => {
    const res = await app.inject({ method: 'GET', url: '/id', headers: { 'x-request-id': 'trace-01.AB_c' } });
    expect(res.headers['x-request-id']).toBe('trace-01.AB_c');
    expect(res.json()).toEqual({ id: 'trace-01.AB_c' });
  });

  it('generates req_… when the incoming id is missing, too long or unsafe', async () => {
    const ids = new Set<string>();
    for (const incoming of [undefined, 'a'.repeat(101), 'bad id\nforged log line', 'semi;colon', '']) {
      const res = await app.inject({ method: 'GET', url: '/id', headers: incoming === undefined ? {} : { 'x-request-id': incoming } });
      const id = res.headers['x-request-id'] as string;
      expect(id).toMatch(/^req_[A-Za-z0-9_-]+$/);
      expect(res.json()).toEqual({ id });
      ids.add(id);
    }
    expect(ids.size).toBe(5);
    expect(genReqId({ headers: { 'x-request-id': 'a'.repeat(100) } } as never)).toBe('a'.repeat(100));
  });

  it('puts the request id on problem responses too', async () => {
    const res = await app.inject({ method: 'GET', url: '/missing', headers: { 'x-request-id': 'rid-404' } });
    expect(res.headers['x-request-id']).toBe('rid-404');
    expect(res.json().requestId).toBe('rid-404');
  });
});

describe('sanitizeUrl', () => {
  it('keeps the path and harmless query values, redacts the rest', () => {
    expect(sanitizeUrl('/v1/actions/act_1')).toBe('/v1/actions/act_1');
    expect(sanitizeUrl('/v1/actions/act_1?wait=30')).toBe('/v1/actions/act_1?wait=30');
    expect(sanitizeUrl('/x?token=abc&wait=5&api_key=k&flag')).toBe('/x?token=[redacted]&wait=5&api_key=[redacted]&flag');
    expect(sanitizeUrl('/x?%E0%A4%A=zz')).toBe('/x?%E0%A4%A=[redacted]');
  });
});

describe('logging never carries credentials or intents', () => {
  let app: FastifyInstance;
  const lines: string[] = [];

  beforeAll(async () => {
    const logger = pino(loggerOptions({ level: 'debug' }), { write: (line: string) => void lines.push(line) });
    app = buildHttpApp({ logger, readinessChecks: [] });
    const auth = bearerAuth(async (token) => (token === TOKEN ? { principal: 'agent:deployer' } : null));
    // A careless route: logs what it received under the names real code would use.
    app.post('/v1/actions', { preHandler: auth, config: { invalidCode: 'invalid_intent' } }, async (request) => {
      const body = request.body as { action: { params: unknown } };
      request.log.info({ intent: request.body }, 'intent received');
      request.log.info({ action: { params: body.action.params } }, 'params');
      request.log.info({ body: request.body, headers: request.headers }, 'raw');
      request.log.info({ result: { releaseToken: 'eyJhbGciOiJFZERTQSJ9.RELEASE' } }, 'approved');
      return { ok: true };
    });
    app.get('/v1/broken', async () => {
      throw new Error('relation "artifact" does not exist');
    });
    app.post('/v1/strict', { preHandler: auth }, async (request) => z.strictObject({ n: z.number() }).parse(request.body));
    await app.ready();
  });
  afterAll(() => app.close());

  it('logs method, url, status, response time and request id, but no token, body or query secret', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/v1/actions?token=QUERYSECRET&wait=1',
      headers: { authorization: `Bearer ${TOKEN}`, cookie: 'session=COOKIESECRET', 'x-request-id': 'rid-log-1' },
      payload: { action: { type: 'environment.delete', resource: INTENT_MARKER, params: { cluster: INTENT_MARKER } } },
    });
    expect(res.statusCode).toBe(200);
    const bad = await app.inject({
      method: 'POST',
      url: '/v1/strict',
      headers: { authorization: `Bearer ${TOKEN}` },
      payload: { n: INTENT_MARKER, intent: INTENT_MARKER },
    });
    expect(bad.statusCode).toBe(400);

    const text = lines.join('');
    expect(lines.length).toBeGreaterThan(6);
    for (const secret of [TOKEN, INTENT_MARKER, 'QUERYSECRET', 'COOKIESECRET', 'RELEASE', 'environment.delete']) {
      expect(text, secret).not.toContain(secret);
    }
    const entries = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    const completed = entries.find((e) => e.msg === 'request completed' && e.requestId === 'rid-log-1');
    expect(completed).toMatchObject({ res: { statusCode: 200 }, requestId: 'rid-log-1' });
    expect(typeof completed?.responseTime).toBe('number');
    const incoming = entries.find((e) => e.msg === 'incoming request' && e.requestId === 'rid-log-1');
    expect(incoming).toMatchObject({ req: { method: 'POST', url: '/v1/actions?token=[redacted]&wait=1' } });
    // The redaction is visible, so a reader knows something was there.
    expect(entries.find((e) => e.msg === 'intent received')).toMatchObject({ intent: '[redacted]' });
  });

  it('logs a 500 with its cause and the request id the client was given', async () => {
    const res = await app.inject({ method: 'GET', url: '/v1/broken', headers: { 'x-request-id': 'rid-500' } });
    expect(res.statusCode).toBe(500);
    expect(res.json().requestId).toBe('rid-500');
    const entry = lines.map((l) => JSON.parse(l) as Record<string, unknown>).find((e) => e.msg === 'request failed');
    expect(entry).toMatchObject({ level: 50, requestId: 'rid-500', err: { message: 'relation "artifact" does not exist' } });
  });
});

describe('loggerOptions', () => {
  it('always redacts and serializes; pretty output needs pino-pretty and says so', () => {
    const opts = loggerOptions({ level: 'info' });
    expect(opts.level).toBe('info');
    expect(opts.transport).toBeUndefined();
    expect((opts.redact as { paths: string[] }).paths).toEqual(expect.arrayContaining(['req.headers.authorization', 'intent', '*.intent', 'releaseToken']));
    let pretty: ReturnType<typeof loggerOptions> | Error;
    try {
      pretty = loggerOptions({ level: 'debug', pretty: true });
    } catch (err) {
      pretty = err as Error;
    }
    if (pretty instanceof Error) expect(pretty.message).toContain('pino-pretty');
    else expect(pretty.transport).toMatchObject({ target: 'pino-pretty' });
  });
});
