import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { intents, startTestService, type TestService } from './support/service.ts';
import { redisUrlForTests } from './support/database.ts';
import { startTcpProxy } from './support/tcp-proxy.ts';

// Readiness matches what the process can do. During a Redis outage an API process still
// decides (Postgres is the record), so /readyz stays 200 and a load balancer keeps routing;
// the outage shows in /healthz's detail and in countersign_dependency_up. A worker process,
// which cannot work without Redis, is not ready.

let proxy: Awaited<ReturnType<typeof startTcpProxy>>;
let api: TestService;
let worker: TestService;

beforeAll(async () => {
  proxy = await startTcpProxy(Number(new URL(redisUrlForTests()).port));
  const env = { REDIS_URL: `redis://127.0.0.1:${proxy.port}` };
  api = await startTestService({ env, role: 'api' });
  worker = await startTestService({ env, role: 'worker', databaseUrl: api.databaseUrl });
});
afterAll(async () => {
  await worker?.stop();
  await api?.stop();
  await proxy?.close();
});

function dependencyUp(metrics: string, dependency: string): number | undefined {
  const line = metrics.split('\n').find((l) => l.startsWith('countersign_dependency_up{') && l.includes(`dependency="${dependency}"`));
  return line === undefined ? undefined : Number(line.split(' ').pop());
}

describe('readiness during a Redis outage', () => {
  it('all up: ready, healthy, both dependencies up', async () => {
    expect((await api.api('GET', '/readyz')).status).toBe(200);
    expect((await api.api('GET', '/healthz')).body).toEqual({ status: 'ok', dependencies: { redis: 'ok' } });
    const metrics = (await api.api('GET', '/metrics')).text;
    expect(dependencyUp(metrics, 'redis')).toBe(1);
    expect(dependencyUp(metrics, 'db')).toBe(1);
  });

  it('Redis cut: the API process stays ready and keeps deciding; the worker is not ready', async () => {
    proxy.cut();
    try {
      const ready = await api.api('GET', '/readyz');
      expect(ready.status).toBe(200);
      const health = await api.api('GET', '/healthz');
      expect(health.status).toBe(200);
      expect(health.body.status).toBe('degraded');
      expect(health.body.dependencies.redis).not.toBe('ok');
      expect(dependencyUp((await api.api('GET', '/metrics')).text, 'redis')).toBe(0);
      // It still decides.
      const decided = await api.api('POST', '/v1/actions', { token: api.tokens['deploy-bot']!, body: intents.read });
      expect(decided.status).toBe(201);
      expect(decided.body.status).toBe('approved');
      // A worker cannot work without Redis: not ready, and it says why.
      const workerReady = await worker.api('GET', '/readyz');
      expect(workerReady.status).toBe(503);
      expect(workerReady.body.checks.redis).not.toBe('ok');
    } finally {
      proxy.restore();
    }
  });
});
