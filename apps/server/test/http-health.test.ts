import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { Counter, Registry } from 'prom-client';
import { buildHttpApp } from '../src/http/app.ts';
import type { ReadinessCheck } from '../src/http/health.ts';

describe('health, readiness and metrics', () => {
  let app: FastifyInstance;
  let registry: Registry;
  const state = { redis: 'ok' as 'ok' | 'down' | 'hang' };

  beforeAll(async () => {
    registry = new Registry();
    const checks: ReadinessCheck[] = [
      { name: 'db', check: async () => {} },
      {
        name: 'redis',
        check: async () => {
          if (state.redis === 'down') {
            throw Object.assign(new Error('connect ECONNREFUSED 10.0.0.9:6379 (redis://:hunter2@10.0.0.9)'), { code: 'ECONNREFUSED' });
          }
          if (state.redis === 'hang') await new Promise(() => {});
        },
      },
    ];
    app = buildHttpApp({ logger: { level: 'silent' }, readinessChecks: checks, readinessTimeoutMs: 100, registry });
    const decisions = new Counter({ name: 'decisions_total', help: 'decisions', labelNames: ['outcome'], registers: [app.metricsRegistry] });
    app.get('/v1/actions/:id', async () => {
      decisions.inc({ outcome: 'approve' });
      return { ok: true };
    });
    await app.ready();
  });
  afterAll(() => app.close());

  it('/healthz answers 200 without touching required dependencies', async () => {
    state.redis = 'down';
    const res = await app.inject({ method: 'GET', url: '/healthz' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ status: 'ok', dependencies: {} });
  });

  it('/readyz is 200 when every check passes', async () => {
    state.redis = 'ok';
    const res = await app.inject({ method: 'GET', url: '/readyz' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ status: 'ready', checks: { db: 'ok', redis: 'ok' } });
  });

  it('/readyz is 503 naming the failed check and why, without secrets', async () => {
    state.redis = 'down';
    const res = await app.inject({ method: 'GET', url: '/readyz' });
    expect(res.statusCode).toBe(503);
    expect(res.headers['retry-after']).toBe('5');
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    const body = res.json();
    expect(body).toMatchObject({ code: 'unavailable', status: 503, checks: { db: 'ok', redis: 'unavailable (ECONNREFUSED)' } });
    expect(body.detail).toContain('redis');
    expect(res.body).not.toMatch(/hunter2|10\.0\.0\.9/);
  });

  it('/readyz fails a check that hangs past its timeout', async () => {
    state.redis = 'hang';
    const started = Date.now();
    const res = await app.inject({ method: 'GET', url: '/readyz' });
    expect(Date.now() - started).toBeLessThan(2000);
    expect(res.statusCode).toBe(503);
    expect(res.json().checks).toEqual({ db: 'ok', redis: 'timed out after 100 ms' });
    state.redis = 'ok';
  });

  it('/metrics exposes default metrics, the duration histogram by route pattern, and route counters', async () => {
    await app.inject({ method: 'GET', url: '/v1/actions/act_abc123' });
    await app.inject({ method: 'GET', url: '/v1/actions/act_def456' });
    await app.inject({ method: 'GET', url: '/no/such/route' });
    const res = await app.inject({ method: 'GET', url: '/metrics' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = res.body;
    expect(text).toContain('process_cpu_user_seconds_total');
    expect(text).toContain('nodejs_heap_size_total_bytes');
    expect(text).toContain('# TYPE http_request_duration_seconds histogram');
    expect(text).toMatch(/http_request_duration_seconds_count\{method="GET",route="\/v1\/actions\/:id",status_code="200"\} 2/);
    expect(text).toMatch(/http_request_duration_seconds_count\{method="GET",route="unmatched",status_code="404"\} 1/);
    expect(text).not.toContain('act_abc123');
    expect(text).toMatch(/decisions_total\{outcome="approve"\} 2/);
    expect(app.metricsRegistry).toBe(registry);
  });

  it('can build a second app on the same registry without duplicate-metric errors', async () => {
    const again = buildHttpApp({ logger: { level: 'silent' }, readinessChecks: [], registry });
    await again.ready();
    await again.close();
  });
});
