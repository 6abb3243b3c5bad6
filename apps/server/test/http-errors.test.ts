import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import pg from 'pg';
import { z } from 'zod';
import { IntentSchema } from '@countersign/contracts';
import { buildHttpApp } from '../src/http/app.ts';
import { isUnavailableError } from '../src/http/errors.ts';
import { freePort } from '@countersign/devstack';

const VoteSchema = z.strictObject({ decision: z.enum(['approve', 'deny']), reason: z.string().min(1) });

describe('error handler', () => {
  let app: FastifyInstance;
  let deadPort: number;

  beforeAll(async () => {
    deadPort = await freePort();
    app = buildHttpApp({ logger: { level: 'silent' }, bodyLimit: 1024, readinessChecks: [] });
    // Throwaway routes standing in for the domain routes.
    app.post('/intent', { config: { invalidCode: 'invalid_intent' } }, async (request) => IntentSchema.parse(request.body));
    app.post('/vote', async (request) => VoteSchema.parse(request.body));
    app.post('/echo', async (request) => ({ got: request.body ?? null }));
    app.get('/boom', async () => {
      throw new Error('password=hunter2 at db.internal:5432 relation "artifact" does not exist');
    });
    app.get('/syntax', async () => JSON.parse('{oops'));
    app.get('/pg', async () => {
      const client = new pg.Client({ host: '127.0.0.1', port: deadPort, user: 'u', password: 'hunter2', database: 'd', connectionTimeoutMillis: 5000 });
      await client.connect(); // rejects with the driver's real ECONNREFUSED error
      return { unreachable: false };
    });
    await app.ready();
  });
  afterAll(() => app.close());

  it('reports every zod issue on the intent route as invalid_intent with dotted paths and unknown keys', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/intent',
      payload: { action: { type: 'Not A Type', colour: 'red' }, context: { attributes: 'nope' }, risk: { urgency: 'whenever' }, extra: 1 },
    });
    expect(res.statusCode).toBe(400);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    const body = res.json();
    expect(body.code).toBe('invalid_intent');
    expect(body.type).toBe('https://countersign.dev/problems/invalid_intent');
    const fields = (body.errors as { field: string; message: string }[]).map((e) => e.field).sort();
    expect(fields).toEqual(['action.colour', 'action.type', 'context.attributes', 'extra', 'risk.urgency']);
    for (const e of body.errors) expect(e.message.length).toBeGreaterThan(0);
    expect(body.errors.find((e: { field: string }) => e.field === 'action.colour').message).toBe('unknown field');
  });

  it('uses invalid_request on routes that do not mark themselves', async () => {
    const res = await app.inject({ method: 'POST', url: '/vote', payload: { decision: 'maybe' } });
    expect(res.statusCode).toBe(400);
    const body = res.json();
    expect(body.code).toBe('invalid_request');
    expect(body.errors.map((e: { field: string }) => e.field).sort()).toEqual(['decision', 'reason']);
  });

  it('refuses malformed JSON with 400 invalid_request', async () => {
    const res = await app.inject({ method: 'POST', url: '/echo', headers: { 'content-type': 'application/json' }, payload: '{"action": ' });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ code: 'invalid_request', detail: 'malformed JSON body' });
  });

  it('refuses prototype poisoning, saying which key (it is valid JSON, not malformed)', async () => {
    for (const payload of ['{"__proto__": {"isAdmin": true}}', '{"action": {"params": {"constructor": {"prototype": {"x": 1}}}}}']) {
      const res = await app.inject({ method: 'POST', url: '/echo', headers: { 'content-type': 'application/json' }, payload });
      expect(res.statusCode).toBe(400);
      expect(res.json()).toMatchObject({ code: 'invalid_request', detail: expect.stringContaining('"__proto__" or "constructor.prototype" key') });
    }
  });

  it('refuses an empty body on a route that expects JSON with a field-precise 400', async () => {
    const res = await app.inject({ method: 'POST', url: '/vote', headers: { 'content-type': 'application/json' }, payload: '' });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ code: 'invalid_request', errors: [{ field: '(body)' }] });
    const none = await app.inject({ method: 'POST', url: '/vote' });
    expect(none.statusCode).toBe(400);
    expect(none.json().code).toBe('invalid_request');
  });

  it('lets a body-less POST with a JSON content type through to routes that need no body', async () => {
    const res = await app.inject({ method: 'POST', url: '/echo', headers: { 'content-type': 'application/json' }, payload: '' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ got: null });
  });

  it('accepts application/*+json as JSON', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/echo',
      headers: { 'content-type': 'application/merge-patch+json; charset=utf-8' },
      payload: '{"a":1}',
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ got: { a: 1 } });
  });

  it('refuses a body over the limit with 413 payload_too_large', async () => {
    const res = await app.inject({ method: 'POST', url: '/echo', payload: { pad: 'x'.repeat(2048) } });
    expect(res.statusCode).toBe(413);
    expect(res.json()).toMatchObject({ code: 'payload_too_large', status: 413 });
  });

  it('refuses non-JSON bodies with 415 unsupported_media_type', async () => {
    for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'application/xml']) {
      const res = await app.inject({ method: 'POST', url: '/echo', headers: { 'content-type': type }, payload: 'a=1' });
      expect(res.statusCode, type).toBe(415);
      expect(res.json().code).toBe('unsupported_media_type');
    }
    const untyped = await app.inject({ method: 'POST', url: '/echo', payload: Buffer.from('{"a":1}') });
    expect(untyped.statusCode).toBe(415);
  });

  it('answers an unknown route with a 404 not_found problem', async () => {
    const res = await app.inject({ method: 'GET', url: '/v1/nope?token=abc' });
    expect(res.statusCode).toBe(404);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    const body = res.json();
    expect(body).toMatchObject({ code: 'not_found', status: 404, instance: '/v1/nope' });
    expect(res.body).not.toContain('abc');
  });

  it('answers an unexpected error with 500 internal and no internal detail', async () => {
    for (const url of ['/boom', '/syntax']) {
      const res = await app.inject({ method: 'GET', url });
      expect(res.statusCode, url).toBe(500);
      const body = res.json();
      expect(body.code).toBe('internal');
      expect(res.body).not.toMatch(/hunter2|db\.internal|artifact|oops|JSON|stack/);
      expect(body.requestId).toBe(res.headers['x-request-id']);
    }
  });

  it('answers a real pg ECONNREFUSED with 503 unavailable and Retry-After', async () => {
    const res = await app.inject({ method: 'GET', url: '/pg' });
    expect(res.statusCode).toBe(503);
    expect(res.headers['retry-after']).toBe('5');
    expect(res.json()).toMatchObject({ code: 'unavailable', status: 503 });
    expect(res.body).not.toMatch(/ECONNREFUSED|127\.0\.0\.1|hunter2/);
  });
});

describe('isUnavailableError', () => {
  // Each dependency's classifier has its own tests (packages/db/test/pg-errors.test.ts,
  // packages/queue/test/redis-errors.test.ts); here: both are asked.
  it('recognises Postgres and Redis connectivity failures', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
    expect(isUnavailableError(new TypeError('wrapped', { cause: refused }))).toBe(true);
    const shutdown = new pg.DatabaseError('terminating connection', 0, 'error');
    shutdown.code = '57P01';
    expect(isUnavailableError(shutdown)).toBe(true);
    expect(isUnavailableError(Object.assign(new Error('Reached the max retries per request limit'), { name: 'MaxRetriesPerRequestError' }))).toBe(true);
    expect(isUnavailableError(new Error('Connection is closed.'))).toBe(true);
  });

  it('does not call ordinary errors transient', () => {
    expect(isUnavailableError(new Error('boom'))).toBe(false);
    expect(isUnavailableError(new TypeError('x is undefined'))).toBe(false);
    expect(isUnavailableError(null)).toBe(false);
    expect(isUnavailableError('ECONNREFUSED')).toBe(false);
    const loop: Error & { cause?: unknown } = new Error('loop');
    loop.cause = loop;
    expect(isUnavailableError(loop)).toBe(false);
  });
});
