import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestService, type TestService } from './support/service.ts';

// Review finding (pre-existing, packages/core/src/gate/read.ts waitUntilDecided): the timer a
// long-poll sets at its action's expiry runs `void expireIfDue(deps, id).finally(done)`. When
// closing the action fails (Postgres restarting, a failover, pool exhausted at that instant),
// `finally` passes the rejection on and nothing handles it: an unhandled rejection, which in
// Node ≥ 15 ends the server process, every in-flight request with it.

let t: TestService;
beforeAll(async () => {
  t = await startTestService();
});
afterAll(async () => {
  await t?.stop();
});

describe('long-poll across its action\'s expiry', () => {
  it('a failure to close the expired action leaves no unhandled rejection (it would end the process)', async () => {
    const { body: action } = await t.api('POST', '/v1/actions', { token: t.tokens['deploy-bot'], body: { action: { type: 'test.short' } } });
    expect(action.status).toBe('pending');
    const store = t.service.gate.deps.store;
    const original = store.transaction;
    let failures = 0;
    // The database is unavailable for the one transaction that closes the action at its expiry.
    store.transaction = (async (...args: Parameters<typeof original>) => {
      if (failures === 0 && t.clock.now().getTime() >= Date.parse(action.expiresAt)) {
        failures++;
        throw new Error('Connection terminated unexpectedly');
      }
      return original.apply(store, args);
    }) as typeof original;
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      // 300 ms before expiry: the long-poll's expiry timer fires during its 2 s wait.
      t.clock.advance(60_000 - 300);
      const res = await t.api('GET', `/v1/actions/${action.id}?wait=2`, { token: t.tokens['deploy-bot'] });
      expect(res.status).toBe(200);
      // Unhandled rejections are reported after the microtask queue drains: give it a turn.
      await new Promise((r) => setTimeout(r, 50));
      expect(failures).toBe(1);
      expect(unhandled.map((e) => (e as Error).message)).toEqual([]);
    } finally {
      store.transaction = original;
      process.off('unhandledRejection', onUnhandled);
    }
  });
});
