import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshDatabase } from './support/database.ts';
import { intents, startTestService, type TestService } from './support/service.ts';
import { startTcpProxy } from './support/tcp-proxy.ts';

// Fail closed: with Postgres unreachable, requests fail with 503 and nothing is approved.
let t: TestService;
let proxy: Awaited<ReturnType<typeof startTcpProxy>>;
let db: Awaited<ReturnType<typeof freshDatabase>>;

beforeAll(async () => {
  db = await freshDatabase();
  const real = new URL(db.url);
  proxy = await startTcpProxy(Number(real.port));
  const viaProxy = new URL(db.url);
  viaProxy.port = String(proxy.port);
  t = await startTestService({ databaseUrl: viaProxy.toString(), env: { COUNTERSIGN_DB_POOL: '4' } });
});
afterAll(async () => {
  await t?.stop();
  await proxy?.close();
  await db?.drop();
});

describe('database unreachable', () => {
  it('answers 503 problems, approves nothing, and recovers when it is back', async () => {
    const { body: pending } = await t.api('POST', '/v1/actions', { token: t.tokens['deploy-bot'], body: intents.prodDelete });
    await t.api('POST', `/v1/actions/${pending.id}/votes`, { token: t.tokens.alice, body: { decision: 'approve', reason: 'ok' } });

    proxy.cut();
    const submit = await t.api('POST', '/v1/actions', { token: t.tokens['deploy-bot'], body: intents.read });
    expect(submit.status).toBe(503);
    expect(submit.body.code).toBe('unavailable');
    expect(submit.body.releaseToken).toBeUndefined();
    expect(submit.headers.get('retry-after')).toBeTruthy();
    const vote = await t.api('POST', `/v1/actions/${pending.id}/votes`, { token: t.tokens.bob, body: { decision: 'approve', reason: 'ok' } });
    expect(vote.status).toBe(503);
    expect((await t.api('GET', '/readyz')).status).toBe(503);

    proxy.restore();
    let after = await t.api('GET', `/v1/actions/${pending.id}`, { token: t.tokens['deploy-bot'] });
    for (let i = 0; i < 20 && after.status === 503; i++) {
      await new Promise((r) => setTimeout(r, 250));
      after = await t.api('GET', `/v1/actions/${pending.id}`, { token: t.tokens['deploy-bot'] });
    }
    // Bob's vote during the outage did not count.
    expect(after.body).toMatchObject({ status: 'pending', progress: { filled: 1, needed: 2 } });
    expect((await t.api('POST', '/v1/actions', { token: t.tokens['deploy-bot'], body: intents.read })).status).toBe(201);
  });
});
