import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ApiError,
  CancelledError,
  Countersign,
  currentRelease,
  ExpiredError,
  RefusedError,
  TimeoutError,
  verifyRelease,
  type Action,
  type FetchLike,
  type IntentInput,
} from '../packages/sdk/src/index.ts';
import { intents, startTestService, type TestService } from './support/service.ts';

// The SDK against the real service (Postgres, Redis, HTTP): submissions that survive lost
// responses without creating two actions, and every way a wait can end.

let t: TestService;
beforeAll(async () => {
  t = await startTestService();
});
afterAll(async () => {
  await t?.stop();
});

const fast = { baseMs: 20, maxMs: 200 };
function client(fetchImpl?: FetchLike, principal = 'deploy-bot'): Countersign {
  return new Countersign({ baseUrl: t.url, apiKey: t.tokens[principal]!, backoff: fast, ...(fetchImpl ? { fetch: fetchImpl } : {}) });
}

function prodDelete(resource: string): IntentInput {
  return { ...intents.prodDelete, action: { ...intents.prodDelete.action, resource } } as IntentInput;
}

async function vote(id: string, who: string, decision: 'approve' | 'deny', reason = 'checked') {
  const res = await t.api('POST', `/v1/actions/${id}/votes`, { token: t.tokens[who], body: { decision, reason } });
  expect(res.status, res.text).toBe(201);
}

/** Resolves with the pending action once `authorize` has submitted it. */
function pendingOf(): { onPending: (a: Action) => void; submitted: Promise<Action> } {
  let resolve!: (a: Action) => void;
  const submitted = new Promise<Action>((r) => (resolve = r));
  return { onPending: resolve, submitted };
}

describe('submit', () => {
  it('retries a lost response with the same Idempotency-Key: one action, the same answer', async () => {
    const keys: string[] = [];
    let dropped = 0;
    const lossy: FetchLike = async (url, init) => {
      const response = await fetch(url, init);
      if (init.method === 'POST' && url.endsWith('/v1/actions')) {
        keys.push(new Headers(init.headers).get('idempotency-key')!);
        // The server committed; the answer is lost on the way back, twice.
        if (dropped++ < 2) throw new TypeError('fetch failed', { cause: Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }) });
      }
      return response;
    };
    const action = await client(lossy).submit({ action: { type: 'db.query', resource: 'lossy-1' }, risk: { class: 'read' } });
    expect(action.status).toBe('approved');
    expect(keys).toHaveLength(3);
    expect(new Set(keys).size).toBe(1);
    const rows = await t.prisma.action.findMany({ where: { idempotencyKey: keys[0] } });
    expect(rows.map((r) => r.id)).toEqual([action.id]);
  });

  it('retries 503 and honours Retry-After, then gives up with the problem after its retries', async () => {
    let calls = 0;
    const flaky: FetchLike = async (url, init) => {
      if (calls++ === 0) return new Response(JSON.stringify({ code: 'unavailable', detail: 'db down', status: 503 }), { status: 503, headers: { 'retry-after': '0' } });
      return fetch(url, init);
    };
    expect((await client(flaky).submit({ action: { type: 'db.query' }, risk: { class: 'read' } })).status).toBe('approved');

    const down: FetchLike = async () => new Response('{"code":"unavailable","detail":"db down"}', { status: 503 });
    const cs = new Countersign({ baseUrl: t.url, apiKey: t.tokens['deploy-bot']!, fetch: down, backoff: fast, maxRetries: 2 });
    await expect(cs.submit({ action: { type: 'db.query' } })).rejects.toMatchObject({ name: 'ApiError', status: 503, code: 'unavailable' });
  });

  it('does not retry a bad intent: the problem comes back with its fields', async () => {
    let calls = 0;
    const counting: FetchLike = (url, init) => {
      calls++;
      return fetch(url, init);
    };
    const err = await client(counting).submit({ action: { type: 'NOT A TYPE' } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).code).toBe('invalid_intent');
    expect((err as ApiError).problem.errors?.[0]?.field).toBe('action.type');
    expect(calls).toBe(1);
  });
});

describe('authorize', () => {
  it('resolves with a release token bound to exactly this intent once people approve', async () => {
    const intent = prodDelete('env/sdk-approve');
    const p = pendingOf();
    const authorized = client().authorize(intent, { onPending: p.onPending });
    const pending = await p.submitted;
    expect(pending.status).toBe('pending');
    await vote(pending.id, 'alice', 'approve');
    await vote(pending.id, 'bob', 'approve');
    const { action, releaseToken } = await authorized;
    expect(action).toMatchObject({ id: pending.id, status: 'approved' });
    const claims = await verifyRelease(releaseToken, { jwksUrl: `${t.url}/.well-known/jwks.json`, audience: 'countersign-release', intent });
    expect(claims.actionId).toBe(pending.id);
  });

  it('throws RefusedError with the reasons, the action id and who may override', async () => {
    const err = await client().authorize(intents.piiExport as IntentInput).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RefusedError);
    const refused = err as RefusedError;
    expect(refused.reasons).toEqual(['personal data exports are refused']);
    expect(refused.actionId).toMatch(/^act_/);
    expect(refused.overridableBy).toEqual(['cto']);
    expect(refused.status).toBe('refused');
  });

  it('throws RefusedError when an approver denies, with the deny reason', async () => {
    const p = pendingOf();
    const authorized = client().authorize(prodDelete('env/sdk-deny'), { onPending: p.onPending }).catch((e: unknown) => e);
    const pending = await p.submitted;
    await vote(pending.id, 'bob', 'deny', 'customers still on it');
    const err = (await authorized) as RefusedError;
    expect(err).toBeInstanceOf(RefusedError);
    expect(err.actionId).toBe(pending.id);
    expect(err.reasons).toContain('denied by bob: customers still on it');
  });

  it('throws ExpiredError when nobody approves in time (TestClock)', async () => {
    const p = pendingOf();
    const authorized = client().authorize({ action: { type: 'test.short', resource: 'sdk-expiry' } }, { onPending: p.onPending }).catch((e: unknown) => e);
    const pending = await p.submitted;
    t.clock.advance(61_000);
    // What the sweeper or the expire job does (unless the SDK's next read got there first:
    // a read past the expiry closes it too); the waiting SDK is woken by the decision.
    await t.service.gate.expireIfDue(pending.id);
    const err = (await authorized) as ExpiredError;
    expect(err).toBeInstanceOf(ExpiredError);
    expect(err.actionId).toBe(pending.id);
    expect(err.reasons.join(' ')).toMatch(/expired before it was met/);
  });

  it('throws CancelledError when the request is withdrawn while waiting', async () => {
    const cs = client();
    const p = pendingOf();
    const authorized = cs.authorize(prodDelete('env/sdk-cancel'), { onPending: p.onPending }).catch((e: unknown) => e);
    const pending = await p.submitted;
    await cs.cancel(pending.id, 'changed my mind');
    const err = (await authorized) as CancelledError;
    expect(err).toBeInstanceOf(CancelledError);
    expect(err.actionId).toBe(pending.id);
  });

  it('throws TimeoutError after `timeout` and withdraws the pending action', async () => {
    const p = pendingOf();
    const started = Date.now();
    const err = await client().authorize(prodDelete('env/sdk-timeout'), { timeout: 1_500, onPending: p.onPending }).catch((e: unknown) => e);
    expect(Date.now() - started).toBeLessThan(6_000);
    expect(err).toBeInstanceOf(TimeoutError);
    const pending = await p.submitted;
    expect((err as TimeoutError).actionId).toBe(pending.id);
    expect((err as TimeoutError).withdrawn).toBe(true);
    expect((await client().get(pending.id)).status).toBe('cancelled');
  });
});

describe('authorize, aborted', () => {
  it('rejects with the abort reason and withdraws the request nobody waits for any more', async () => {
    const p = pendingOf();
    const controller = new AbortController();
    const authorized = client().authorize(prodDelete('env/sdk-abort-authorize'), { signal: controller.signal, onPending: p.onPending }).catch((e: unknown) => e);
    const pending = await p.submitted;
    controller.abort();
    expect(((await authorized) as Error).name).toBe('AbortError');
    expect((await client().get(pending.id)).status).toBe('cancelled');
  });
});

describe('waitForDecision', () => {
  it('stops when its AbortSignal aborts, leaving the action pending', async () => {
    const cs = client();
    const pending = await cs.submit(prodDelete('env/sdk-abort'));
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 300);
    const started = Date.now();
    const err = await cs.waitForDecision(pending.id, { signal: controller.signal }).catch((e: unknown) => e);
    expect((err as Error).name).toBe('AbortError');
    expect(Date.now() - started).toBeLessThan(3_000);
    expect((await cs.get(pending.id)).status).toBe('pending');
  });

  it('an action you may not read is an error, not an endless wait', async () => {
    const pending = await client().submit(prodDelete('env/sdk-notyours'));
    const err = await client(undefined, 'frank').waitForDecision(pending.id, { timeout: 5_000 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).status).toBe(404);
  });
});

describe('guard', () => {
  it('runs the wrapped function only after approval, with the release at hand', async () => {
    const cs = client();
    const calls: string[] = [];
    let pendingId = '';
    const deleteEnvironment = cs.guard(
      (name: string) => prodDelete(name),
      async (name: string) => {
        calls.push(name);
        return currentRelease();
      },
      { onPending: (a) => (pendingId = a.id) },
    );
    const running = deleteEnvironment('env/sdk-guard');
    await expect.poll(() => pendingId).not.toBe('');
    await new Promise((r) => setTimeout(r, 200));
    expect(calls).toEqual([]);
    await vote(pendingId, 'alice', 'approve');
    await vote(pendingId, 'bob', 'approve');
    const release = await running;
    expect(calls).toEqual(['env/sdk-guard']);
    expect(release?.action.id).toBe(pendingId);
    expect(release?.releaseToken).toMatch(/^ey/);
    expect(currentRelease()).toBeUndefined();
  });

  it('never runs the function when the action is refused', async () => {
    const calls: unknown[] = [];
    const exportCustomers = client().guard(
      () => intents.piiExport as IntentInput,
      async () => calls.push('ran'),
    );
    await expect(exportCustomers()).rejects.toBeInstanceOf(RefusedError);
    expect(calls).toEqual([]);
  });
});
