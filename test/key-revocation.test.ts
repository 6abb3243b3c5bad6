import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { privateKeyPem } from '@countersign/evidence';
import { intents, startTestService, type TestService } from './support/service.ts';

// API keys are cached per process for speed; a revoked key must still stop working at once in
// the process that revoked it, and in every other process as soon as the revocation's NOTIFY
// arrives (well before the cache's own TTL of 10 s); no decision is ever recorded under it once
// the revocation has committed. Two service instances share one database, as two processes
// would.

let a: TestService;
let b: TestService;
beforeAll(async () => {
  a = await startTestService();
  b = await startTestService({ databaseUrl: a.databaseUrl, env: { COUNTERSIGN_SIGNING_KEY: privateKeyPem(a.service.keyring.active) } });
}, 60_000);
afterAll(async () => {
  await b?.stop();
  await a?.stop();
});

const prefixOf = (token: string) => token.slice(0, 'cs_'.length + 10);
const submit = (t: TestService, token: string) => t.api('POST', '/v1/actions', { token, body: intents.read });

describe('revoking a cached API key', () => {
  const read = (t: TestService, token: string) => t.api('GET', '/v1/actions/act_00000000000000000000', { token });

  it('is refused in the other process as soon as the revocation is heard', async () => {
    const token = a.tokens.alice!;
    // Both processes have used (and so cached) the key.
    for (const t of [a, b, a, b]) expect((await read(t, token)).status).toBe(404);

    expect(await b.service.keys.revoke(prefixOf(token))).toBe(true);
    expect((await read(b, token)).status).toBe(401);
    // Reads in the other process: refused once its LISTEN connection delivers the NOTIFY, well
    // before the cache's TTL (10 s) would have dropped the key.
    const started = Date.now();
    let status = (await read(a, token)).status;
    while (status !== 401 && Date.now() - started < 2_000) {
      await new Promise((r) => setTimeout(r, 20));
      status = (await read(a, token)).status;
    }
    expect(status).toBe(401);
    // Other keys are unaffected (the cache refills from Postgres).
    for (const t of [a, b]) expect((await read(t, t.tokens.carol!)).status).toBe(404);
  });

  it('records no decision under a revoked key in any process, even before the revocation is heard', async () => {
    const token = a.tokens['deploy-bot']!;
    for (const t of [a, b, a, b]) expect((await submit(t, token)).status).toBe(201);

    expect(await b.service.keys.revoke(prefixOf(token))).toBe(true);
    // No waiting: the commit itself refuses actions under a revoked key.
    const [atA, atB] = await Promise.all([submit(a, token), submit(b, token)]);
    expect(atA.status).toBe(401);
    expect(atB.status).toBe(401);
    expect(atA.body.releaseToken).toBeUndefined();
  });

  it('gives no release token to a long-poll whose key was revoked while it waited', async () => {
    // A key of its own for the agent, so the other tests' keys stay usable.
    const { token } = await a.service.keys.create('deploy-bot', { label: 'long-poll' });
    const submitted = await a.api('POST', '/v1/actions', { token, body: intents.prodDelete });
    expect(submitted.body.status).toBe('pending');
    const id = submitted.body.id as string;
    const waiting = a.api('GET', `/v1/actions/${id}?wait=20`, { token });
    await new Promise((r) => setTimeout(r, 200));
    expect(await a.service.keys.revoke(prefixOf(token))).toBe(true);
    for (const who of ['alice', 'bob']) {
      const voter = (await a.service.keys.create(who, { label: 'approver' })).token;
      expect((await a.api('POST', `/v1/actions/${id}/votes`, { token: voter, body: { decision: 'approve', reason: 'ok' } })).status).toBe(201);
    }
    const answer = await waiting;
    expect(answer.status).toBe(401);
    expect(JSON.stringify(answer.body)).not.toMatch(/releaseToken/);
  });

  it('refuses a key revoked in the same process on the very next request', async () => {
    const token = a.tokens.bob!;
    expect((await read(a, token)).status).toBe(404);
    expect(await a.service.keys.revoke(prefixOf(token))).toBe(true);
    expect((await read(a, token)).status).toBe(401);
  });
});
