import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { privateKeyPem } from '@countersign/evidence';
import { intents, startTestService, type TestService } from './support/service.ts';

// API keys are cached per process for speed; a revoked key must still stop working at once in
// the process that revoked it, and in every other process as soon as the revocation's NOTIFY
// arrives (well before the cache's own TTL of 10 s). Two service instances share one database,
// as two processes would.

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
  it('refuses it at once in the revoking process and within moments in the other', async () => {
    const token = a.tokens['deploy-bot']!;
    // Both processes have used (and so cached) the key.
    for (const t of [a, b, a, b]) expect((await submit(t, token)).status).toBe(201);

    expect(await b.service.keys.revoke(prefixOf(token))).toBe(true);
    expect((await submit(b, token)).status).toBe(401);

    const started = Date.now();
    let status = (await submit(a, token)).status;
    while (status !== 401 && Date.now() - started < 2_000) {
      await new Promise((r) => setTimeout(r, 20));
      status = (await submit(a, token)).status;
    }
    expect(status).toBe(401);

    // Other keys are unaffected (the cache refills from Postgres).
    for (const t of [a, b]) expect((await submit(t, t.tokens.alice!)).status).toBe(201);
  });

  it('refuses a key revoked in the same process on the very next request', async () => {
    const token = a.tokens.bob!;
    expect((await a.api('GET', '/v1/actions/act_00000000000000000000', { token })).status).toBe(404);
    expect(await a.service.keys.revoke(prefixOf(token))).toBe(true);
    expect((await a.api('GET', '/v1/actions/act_00000000000000000000', { token })).status).toBe(401);
  });
});
