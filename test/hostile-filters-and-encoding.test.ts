import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startConsoleService } from './support/console.ts';
import { intents, type ApiResponse, type TestService } from './support/service.ts';

// Hostile review s4, F2 and F4. Filters with NUL or other control characters and dates
// Postgres cannot hold (year 0000) are the caller's bad input: 400 invalid_request naming the
// field, on the API and on the console's History page and download, never a 500. A JSON body
// that is not valid UTF-8 is refused (400), not stored with U+FFFD in place of its bytes; a
// body declared in another charset is refused with 415.

let t: TestService;
beforeAll(async () => {
  t = await startConsoleService();
});
afterAll(async () => {
  await t?.stop();
});

function expectFieldProblem(res: ApiResponse, code: string, field: string, what: string): void {
  expect(res.status, `${what}: ${res.text.slice(0, 300)}`).toBe(400);
  expect(res.headers.get('content-type'), what).toMatch(/^application\/problem\+json/);
  expect(res.body.code, what).toBe(code);
  expect(res.body.errors.map((e: { field: string }) => e.field), what).toEqual([field]);
}

/** Each hostile filter and the field the problem must name. */
const HOSTILE_FILTERS: [query: string, field: string][] = [
  ['resource=%00', 'resource'],
  ['ruleId=a%00', 'ruleId'],
  ['riskClass=%00x', 'riskClass'],
  ['environment=x%00', 'environment'],
  ['environment=a%1Bb', 'environment'],
  ['resource=env%0Aprod', 'resource'],
  ['submittedFrom=0000-01-01', 'submittedFrom'],
  ['submittedTo=0000-12-31T00:00:00Z', 'submittedTo'],
  ['decidedFrom=0001-01-01T00:00:00%2B01:00', 'decidedFrom'],
  ['decidedTo=1969-12-31', 'decidedTo'],
];

/** Signs in through the embedded development identity provider with fetch (manual redirects, a cookie jar). */
type ConsolePage = { status: number; text: string; type: string };
async function consoleSession(base: string, login: string): Promise<{ get(path: string): Promise<ConsolePage>; post(path: string, form: Buffer<ArrayBuffer>): Promise<ConsolePage> }> {
  const jar = new Map<string, string>();
  const go = async (start: string, init: RequestInit = {}) => {
    let url = start;
    let options = init;
    for (let i = 0; i < 15; i++) {
      const cookie = [...jar].map(([k, v]) => `${k}=${v}`).join('; ');
      const res = await fetch(url, { ...options, redirect: 'manual', headers: { ...(options.headers as Record<string, string>), cookie } });
      for (const c of res.headers.getSetCookie()) {
        const [pair] = c.split(';');
        const at = pair!.indexOf('=');
        jar.set(pair!.slice(0, at).trim(), pair!.slice(at + 1));
      }
      const location = res.headers.get('location');
      if (res.status >= 300 && res.status < 400 && location) {
        url = new URL(location, url).href;
        options = {};
        continue;
      }
      return { url, status: res.status, text: await res.text(), type: res.headers.get('content-type') ?? '' };
    }
    throw new Error('too many redirects');
  };
  const form = await go(`${base}/console/login?returnTo=%2Fconsole`);
  const action = /<form method="post" action="([^"]+)"/.exec(form.text)?.[1];
  if (!action) throw new Error(`no sign-in form: ${form.text.slice(0, 300)}`);
  const body = new URLSearchParams({ login, password: 'any password will do' }).toString();
  const home = await go(new URL(action.replace(/&amp;/g, '&'), form.url).href, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body });
  if (home.status !== 200 || !home.url.startsWith(`${base}/console`)) throw new Error(`sign-in did not complete: ${home.status} ${home.url}`);
  return {
    get: (path) => go(base + path),
    post: (path, form) => go(base + path, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', origin: base }, body: form }),
  };
}

describe('hostile filters (F2)', () => {
  it('GET /v1/actions and GET /v1/audit/export refuse NUL, control characters and out-of-range dates with 400 naming the field', async () => {
    const token = t.tokens.grace!;
    for (const [query, field] of HOSTILE_FILTERS) {
      expectFieldProblem(await t.api('GET', `/v1/actions?${query}`, { token }), 'invalid_request', field, `list ${query}`);
      expectFieldProblem(await t.api('GET', `/v1/audit/export?${query}`, { token }), 'invalid_request', field, `export ${query}`);
    }
    // The export's own artifact range is bounded the same way.
    expectFieldProblem(await t.api('GET', '/v1/audit/export?from=0000-01-01T00:00:00Z', { token }), 'invalid_request', 'from', 'export from');
    // Dates inside the range still work.
    const ok = await t.api('GET', '/v1/actions?submittedFrom=1970-01-01&submittedTo=9999-12-31T23:59:59Z&resource=env', { token });
    expect(ok.status, ok.text.slice(0, 300)).toBe(200);
    // The export's range reads dates as the list and the console's download do (a calendar date
    // is midnight UTC), and says when from is not before to.
    const dated = await t.api('GET', '/v1/audit/export?from=2020-01-01&to=2030-01-01', { token });
    expect(dated.status, dated.text.slice(0, 300)).toBe(200);
    const backwards = await t.api('GET', '/v1/audit/export?from=2020-01-01&to=2019-01-01', { token });
    expectFieldProblem(backwards, 'invalid_request', 'from', 'export from after to');
    expect(backwards.body.errors).toEqual([{ field: 'from', message: 'must be before to' }]);
  });

  it('a forged cursor whose date Postgres cannot hold is a 400 on cursor, not a 500', async () => {
    const forged = Buffer.from(JSON.stringify(['0000-01-01T00:00:00.000Z', 'act_aaaaaaaaaaaaaaaaaaaa'])).toString('base64url');
    expectFieldProblem(await t.api('GET', `/v1/actions?cursor=${forged}`, { token: t.tokens.grace! }), 'invalid_request', 'cursor', 'forged cursor');
    expectFieldProblem(await t.api('GET', '/v1/actions?cursor=a%00b', { token: t.tokens.grace! }), 'invalid_request', 'cursor', 'NUL cursor');
  });

  it("the console's History page and download answer a bad filter with a 400 naming it, not a 500", async () => {
    const { get } = await consoleSession(t.url, 'grace');
    for (const [query, field] of HOSTILE_FILTERS) {
      const page = await get(`/console/history?${query}`);
      expect(page.status, `history ${query}: ${page.text.slice(0, 200)}`).toBe(400);
      expect(page.type).toMatch(/^text\/html/);
      expect(page.text, `history ${query}`).toContain(field);
      const download = await get(`/console/history/export?format=jsonl&${query}`);
      expect(download.status, `export ${query}: ${download.text.slice(0, 200)}`).toBe(400);
    }
    expect((await get('/console/history/export?format=jsonl&from=0000-01-01')).status).toBe(400);
    expect((await get('/console/history?resource=env')).status).toBe(200);
  });
});

describe('request bodies that are not UTF-8 (F4)', () => {
  const intentWith = (summary: Buffer) =>
    Buffer.concat([Buffer.from('{"action":{"type":"db.query","resource":"orders-replica","summary":"'), summary, Buffer.from('"},"risk":{"class":"read"}}')]);

  async function post(route: string, token: string, body: Buffer<ArrayBuffer>, contentType = 'application/json', key?: string): Promise<ApiResponse> {
    const headers: Record<string, string> = { authorization: `Bearer ${token}`, 'content-type': contentType, ...(key ? { 'idempotency-key': key } : {}) };
    const res = await fetch(t.url + route, { method: 'POST', headers, body });
    const text = await res.text();
    return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : undefined, text };
  }

  it('refuses invalid UTF-8 with 400 and another charset with 415, storing nothing; valid UTF-8 (with or without a BOM) still goes in', async () => {
    const token = t.tokens['deploy-bot']!;
    const before = await t.prisma.action.count();

    // 0xE9 alone: "é" in Latin-1, an invalid byte in UTF-8 (was stored as U+FFFD).
    const invalid = await post('/v1/actions', token, intentWith(Buffer.from([0x63, 0x61, 0x66, 0xe9])), 'application/json', 'utf8-bad');
    expectFieldProblem(invalid, 'invalid_intent', '(body)', 'invalid UTF-8 intent');
    expect(invalid.body.detail).toMatch(/not valid UTF-8/);
    // An overlong encoding and a truncated sequence are refused too.
    expect((await post('/v1/actions', token, intentWith(Buffer.from([0xc0, 0xaf])))).status).toBe(400);
    expect((await post('/v1/actions', token, intentWith(Buffer.from([0xe2, 0x82])))).status).toBe(400);

    const latin1 = await post('/v1/actions', token, intentWith(Buffer.from('café', 'latin1')), 'application/json; charset=latin1');
    expect(latin1.status, latin1.text).toBe(415);
    expect(latin1.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(latin1.body.code).toBe('unsupported_media_type');
    // Another route: its own invalid_request code.
    const submitted = await t.api('POST', '/v1/actions', { token, body: intents.prodDelete });
    const vote = await post(`/v1/actions/${submitted.body.id}/votes`, t.tokens.alice!, Buffer.from([...Buffer.from('{"decision":"approve","reason":"ok '), 0xff, ...Buffer.from('"}')]));
    expectFieldProblem(vote, 'invalid_request', '(body)', 'invalid UTF-8 vote');
    expect(await t.prisma.action.count()).toBe(before + 1); // only the valid prodDelete

    // Nothing was stored under the refused idempotency key, and valid UTF-8 is taken as sent.
    const ok = await post('/v1/actions', token, intentWith(Buffer.from('café ✓', 'utf8')), 'application/json; charset=UTF-8', 'utf8-bad');
    expect(ok.status, ok.text).toBe(201);
    const stored = await t.api('GET', `/v1/actions/${ok.body.id}`, { token });
    expect(stored.body.intent.action.summary).toBe('café ✓');
    const withBom = await post('/v1/actions', token, Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), intentWith(Buffer.from('bom'))]));
    expect(withBom.status, withBom.text).toBe(201);
  });
});

describe("console form posts that are not UTF-8 (F4, the console's own parser)", () => {
  it('a vote form with invalid UTF-8 or a NUL is refused with 400 and records nothing; a valid one is taken as typed', async () => {
    const submitted = await t.api('POST', '/v1/actions', { token: t.tokens['deploy-bot']!, body: intents.prodDelete });
    const id = submitted.body.id as string;
    const alice = await consoleSession(t.url, 'alice');
    const page = await alice.get(`/console/actions/${id}`);
    const csrf = /name="_csrf" value="([^"]+)"/.exec(page.text)?.[1];
    expect(csrf, page.text.slice(0, 300)).toBeTruthy();
    const form = (reason: Buffer) => Buffer.concat([Buffer.from(`_csrf=${encodeURIComponent(csrf!)}&decision=approve&reason=`), reason]);

    for (const [what, reason] of [
      ['a raw Latin-1 byte', Buffer.from([0x63, 0x61, 0x66, 0xe9])],
      ['an escaped byte that is not UTF-8', Buffer.from('caf%E9')],
      ['a NUL', Buffer.from('ok%00')],
    ] as const) {
      const res = await alice.post(`/console/actions/${id}/vote`, form(reason));
      expect(res.status, `${what}: ${res.text.slice(0, 200)}`).toBe(400);
    }
    expect(await t.prisma.vote.count({ where: { actionId: id } })).toBe(0);

    const ok = await alice.post(`/console/actions/${id}/vote`, form(Buffer.from(encodeURIComponent('café ✓ looks right'))));
    expect(ok.status, ok.text.slice(0, 200)).toBe(200); // redirected back to the action page
    const votes = await t.prisma.vote.findMany({ where: { actionId: id } });
    expect(votes.map((v) => v.reason)).toEqual(['café ✓ looks right']);
  });
});
