import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_BODY_LIMITS } from '../apps/server/src/http/body-limits.ts';
import { intents, startTestService, type ApiResponse, type TestService } from './support/service.ts';

// Limits at the edge: nothing malformed gets in. Every JSON body — intent, vote, override,
// cancel, redemption — is bounded in depth, entries and string length, and must be valid
// Unicode without NUL and with finite numbers, before anything reaches the engine. Each
// breach is a 400 naming the field; nothing is stored; and one agent's hostile intent never
// fails another agent's submission in the same group-commit batch.

let t: TestService;
beforeAll(async () => {
  t = await startTestService();
});
afterAll(async () => {
  await t?.stop();
});

function nested(depth: number): unknown {
  let value: unknown = 'leaf';
  for (let i = 0; i < depth; i++) value = { n: value };
  return value;
}

/** Raw JSON texts: some breaches (lone surrogates, 1e400) cannot be made with JSON.stringify. */
const hostile: { name: string; params: string; field: RegExp }[] = [
  { name: 'nesting 6,000 levels deep', params: `${'['.repeat(6000)}${']'.repeat(6000)}`, field: /^action\.params/ },
  { name: 'a lone surrogate', params: '{"iban":"\\ud800x"}', field: /^action\.params\.iban$/ },
  { name: 'a lone surrogate in a key', params: '{"\\udfffk":1}', field: /^action\.params\./ },
  { name: 'a number that is not finite', params: '{"amount":1e400}', field: /^action\.params\.amount$/ },
  { name: 'a NUL character', params: '{"note":"a\\u0000b"}', field: /^action\.params\.note$/ },
  { name: 'an over-long string', params: JSON.stringify({ blob: 'x'.repeat(DEFAULT_BODY_LIMITS.maxStringLength + 1) }), field: /^action\.params\.blob$/ },
  {
    name: 'too many keys',
    params: JSON.stringify(Object.fromEntries(Array.from({ length: DEFAULT_BODY_LIMITS.maxEntries + 1 }, (_, i) => [`k${i}`, 1]))),
    field: /^action\.params$/,
  },
];

function intentText(params: string): string {
  return `{"action":{"type":"db.query","resource":"orders-replica","params":${params}},"risk":{"class":"read"}}`;
}

function expectFieldProblem(res: ApiResponse, code: string, field: RegExp): void {
  expect(res.status, res.text.slice(0, 300)).toBe(400);
  expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  expect(res.body.code).toBe(code);
  expect(res.body.errors.map((e: { field: string }) => e.field)).toEqual([expect.stringMatching(field)]);
}

describe('limits at the edge', () => {
  it('refuses each hostile intent with 400 invalid_intent naming the field, and stores nothing', async () => {
    const token = t.tokens['deploy-bot']!;
    for (const [i, h] of hostile.entries()) {
      const key = `limits-${i}`;
      const res = await t.api('POST', '/v1/actions', { token, rawBody: intentText(h.params), headers: { 'idempotency-key': key } });
      expectFieldProblem(res, 'invalid_intent', h.field);
      // Nothing was stored under the key: a valid intent with it is new, not a replay.
      const ok = await t.api('POST', '/v1/actions', { token, body: intents.read, headers: { 'idempotency-key': key } });
      expect(ok.status, h.name).toBe(201);
    }
  });

  it('names that policy matches refuse invisible, format and control characters; prose keeps them, shown marked', async () => {
    // "env/pro\u200Bd-eu-1" is not "env/prod-eu-1" to a rule (it would pass as non-production),
    // while a downstream that drops such characters acts on production.
    const token = t.tokens['deploy-bot']!;
    const names: { body: Record<string, unknown>; field: string }[] = [
      { body: { ...intents.prodDelete, action: { ...intents.prodDelete.action, resource: 'env/pro\u200Bd-eu-1' } }, field: 'action.resource' },
      { body: { ...intents.prodDelete, action: { ...intents.prodDelete.action, resource: 'env/pro\uFE00d-eu-1' } }, field: 'action.resource' },
      { body: { ...intents.prodDelete, action: { ...intents.prodDelete.action, resource: 'env/prod\teu-1' } }, field: 'action.resource' },
      { body: { ...intents.prodDelete, context: { environment: 'stag\u202Eing' } }, field: 'context.environment' },
      { body: { ...intents.prodDelete, risk: { class: 'read\u2060' } }, field: 'risk.class' },
      // Look-alikes of Latin letters: a rule's "prod" check misses them, a downstream folding NFKC does not.
      { body: { ...intents.prodDelete, action: { ...intents.prodDelete.action, resource: 'env/\uFF50\uFF52\uFF4F\uFF44-eu-1' } }, field: 'action.resource' },
      { body: { ...intents.prodDelete, action: { ...intents.prodDelete.action, resource: 'env/\u1D56\u02B3\u1D52\u1D48-eu-1' } }, field: 'action.resource' },
      { body: { ...intents.prodDelete, context: { environment: '\uFB01nance' } }, field: 'context.environment' },
      { body: { ...intents.prodDelete, context: { environment: 'prod', account: '\u212Aeep' } }, field: 'context.account' },
      { body: { ...intents.prodDelete, action: { ...intents.prodDelete.action, resource: 'env/pro\u217E-eu-1' } }, field: 'action.resource' },
      // Circled, squared and parenthesized letters are symbols (So), yet fold to letters (review s14 b).
      { body: { ...intents.prodDelete, action: { ...intents.prodDelete.action, resource: 'env/\u24DF\u24E1\u24DE\u24D3-eu-1' } }, field: 'action.resource' },
      { body: { ...intents.prodDelete, action: { ...intents.prodDelete.action, resource: 'env/\u{1F13F}\u{1F141}\u{1F13E}\u{1F133}-eu-1' } }, field: 'action.resource' },
      { body: { ...intents.prodDelete, action: { ...intents.prodDelete.action, resource: 'env/\u33DAod-eu-1' } }, field: 'action.resource' },
      { body: { ...intents.prodDelete, context: { environment: '\u24AB\u24AD\u24AA\u249F' } }, field: 'context.environment' },
      // Digits that fold to ASCII ones (circled, superscript, mathematical): an account number a rule matches reads otherwise downstream.
      { body: { ...intents.prodDelete, context: { environment: 'prod', account: 'acct-\u2460\u2461\u2462' } }, field: 'context.account' },
      { body: { ...intents.prodDelete, context: { environment: 'prod', account: 'acct-\u00B9\u{1D7CF}' } }, field: 'context.account' },
    ];
    for (const [i, n] of names.entries()) {
      const key = `names-${i}`;
      const res = await t.api('POST', '/v1/actions', { token, body: n.body, headers: { 'idempotency-key': key } });
      expectFieldProblem(res, 'invalid_intent', new RegExp(`^${n.field.replace('.', '\\.')}$`));
      const ok = await t.api('POST', '/v1/actions', { token, body: intents.read, headers: { 'idempotency-key': key } });
      expect(ok.status).toBe(201);
    }
    // Other scripts and canonical (decomposed) accents are names like any other.
    // Full-width digits and punctuation, common in Chinese and Japanese text, too.
    for (const resource of ['env/r\u00E9sum\u00E9', 'env/re\u0301sume\u0301', 'env/\u751F\u4EA7-eu-1', 'env/\u043F\u0440\u043E\u0434', '\u8ACB\u6C42\u66F8\uFF08\uFF12\uFF10\uFF12\uFF14\uFF09.pdf', '\uD55C\uAD6D/\u0938\u0930\u094D\u0935\u0930/\u062E\u0627\u062F\u0645/\u{1F680}']) {
      const res = await t.api('POST', '/v1/actions', { token, body: { ...intents.read, action: { ...intents.read.action, resource } } });
      expect(res.status, `${resource}: ${res.text.slice(0, 300)}`).toBe(201);
    }
    // Symbols that fold to letters read as symbols: a document number, a trade mark.
    const symbols = await t.api('POST', '/v1/actions', { token, body: { ...intents.read, action: { ...intents.read.action, resource: 'Acme\u2122 Europe\u2120, cold room 4\u2103' }, context: { account: '\u0420\u0430\u0441\u0447\u0451\u0442\u043D\u044B\u0439 \u0441\u0447\u0451\u0442 \u2116 40702810' } } });
    expect(symbols.status, symbols.text.slice(0, 300)).toBe(201);
    const matter = await t.api('POST', '/v1/actions', { token, body: { ...intents.read, context: { matter: '\u5F20\u4E09\u8BC9\u674E\u56DB\uFF082024\uFF09\u6C11\u521D123\u53F7\u3000\u3231' } } });
    expect(matter.status, matter.text.slice(0, 300)).toBe(201);
    const prose = await t.api('POST', '/v1/actions', { token, body: { ...intents.prodDelete, action: { ...intents.prodDelete.action, summary: 'Delete \u202Eprod' } } });
    expect(prose.status, prose.text.slice(0, 300)).toBe(201);
    const stored = await t.api('GET', `/v1/actions/${prose.body.id}`, { token });
    expect(stored.body.normalizedIntent.action.summary).toBe('Delete \u202Eprod');
  });

  it('refuses a number a double would change, naming the field; stores nothing', async () => {
    const token = t.tokens['deploy-bot']!;
    for (const [params, field] of [
      ['{"accountId":9007199254740993}', 'action.params.accountId'],
      ['{"limits":[1,{"tiny":1e-400}]}', 'action.params.limits.1.tiny'],
    ] as const) {
      const key = `numbers-${field}`;
      const res = await t.api('POST', '/v1/actions', { token, rawBody: intentText(params), headers: { 'idempotency-key': key } });
      expectFieldProblem(res, 'invalid_intent', new RegExp(`^${field.replaceAll('.', '\\.')}$`));
      expect(res.text).toContain('send it as a string');
      const ok = await t.api('POST', '/v1/actions', { token, body: intents.read, headers: { 'idempotency-key': key } });
      expect(ok.status).toBe(201);
    }
    // Exact numbers, and the same digits as a string, pass as sent.
    const exact = await t.api('POST', '/v1/actions', { token, rawBody: intentText('{"accountId":"9007199254740993","max":9007199254740991,"ratio":0.1,"big":1e21}') });
    expect(exact.status, exact.text.slice(0, 300)).toBe(201);
    expect((await t.api('GET', `/v1/actions/${exact.body.id}`, { token })).body.normalizedIntent.action.params).toEqual({
      accountId: '9007199254740993',
      max: 9007199254740991,
      ratio: 0.1,
      big: 1e21,
    });
  });

  it('refuses a member named twice in one object, naming it; stores nothing (JSON.parse keeps the last, other readers the first)', async () => {
    const token = t.tokens['deploy-bot']!;
    const before = await t.prisma.action.count();
    const bodies = [
      ['{"action":{"type":"environment.delete","resource":"env/prod-eu-1","params":{},"type":"db.query"},"risk":{"class":"read"}}', 'action.type'],
      ['{"action":{"type":"db.query","resource":"analytics","params":{}},"risk":{"class":"destructive","class":"read"}}', 'risk.class'],
      [intentText('{"to":"acct-1","to":"acct-2"}'), 'action.params.to'],
      // Names that differ only in letter case: a reader matching names ignoring case (Go) takes either.
      [intentText('{"amount":5,"Amount":50000}'), 'action.params.Amount'],
    ] as const;
    for (const [body, field] of bodies) {
      const res = await t.api('POST', '/v1/actions', { token, rawBody: body });
      expectFieldProblem(res, 'invalid_intent', new RegExp(`^${field.replaceAll('.', '\\.')}$`));
      expect(res.text).toMatch(/appears more than once|differ only in letter case/);
    }
    // A vote names its decision once too.
    const submitted = await t.api('POST', '/v1/actions', { token, body: intents.prodDelete });
    const vote = await t.api('POST', `/v1/actions/${submitted.body.id}/votes`, { token: t.tokens.alice, rawBody: '{"decision":"deny","reason":"no","decision":"approve"}' });
    expectFieldProblem(vote, 'invalid_request', /^decision$/);
    expect(await t.prisma.action.count()).toBe(before + 1);
    expect(await t.prisma.vote.count({ where: { actionId: submitted.body.id } })).toBe(0);
  });

  it('a long-poll waits whole seconds written as digits, 0 to 3600', async () => {
    const token = t.tokens['deploy-bot']!;
    const submitted = await t.api('POST', '/v1/actions', { token, body: intents.read });
    for (const wait of ['', '0x10', '1e1', ' 5', '1.5', '-1', '3601', '00001', 'abc']) {
      const res = await t.api('GET', `/v1/actions/${submitted.body.id}?wait=${encodeURIComponent(wait)}`, { token });
      expectFieldProblem(res, 'invalid_request', /^wait$/);
    }
    for (const wait of ['0', '1', '3600']) {
      const res = await t.api('GET', `/v1/actions/${submitted.body.id}?wait=${wait}`, { token });
      expect(res.status, `wait=${wait}: ${res.text.slice(0, 200)}`).toBe(200);
    }
    expect((await t.api('GET', `/v1/actions/${submitted.body.id}`, { token })).status).toBe(200);
  });

  it('accepts a body right at the limits', async () => {
    const params = nested(DEFAULT_BODY_LIMITS.maxDepth - 3); // body → action → params → …
    const res = await t.api('POST', '/v1/actions', { token: t.tokens['deploy-bot']!, body: { ...intents.read, action: { ...intents.read.action, params } } });
    expect(res.status, res.text.slice(0, 300)).toBe(201);
  });

  it('bounds votes, cancels, overrides and redemptions the same way', async () => {
    const submitted = await t.api('POST', '/v1/actions', { token: t.tokens['deploy-bot']!, body: intents.prodDelete });
    const id = submitted.body.id as string;
    const bad = [
      { route: `/v1/actions/${id}/votes`, token: t.tokens.alice, body: '{"decision":"approve","reason":"ok\\u0000"}', field: /^reason$/ },
      { route: `/v1/actions/${id}/votes`, token: t.tokens.alice, body: `{"decision":"approve","reason":${'['.repeat(5000)}${']'.repeat(5000)}}`, field: /^reason/ },
      { route: `/v1/actions/${id}/cancel`, token: t.tokens['deploy-bot'], body: '{"reason":"\\ud800"}', field: /^reason$/ },
      { route: `/v1/actions/${id}/override`, token: t.tokens.alice, body: '{"reason":1e999}', field: /^reason$/ },
      { route: '/v1/releases/redeem', token: t.tokens['deploy-bot'], body: '{"token":"a\\u0000"}', field: /^token$/ },
    ];
    for (const b of bad) expectFieldProblem(await t.api('POST', b.route, { token: b.token!, rawBody: b.body }), 'invalid_request', b.field);
    // None of it touched the action: still pending, no votes.
    const after = await t.api('GET', `/v1/actions/${id}`, { token: t.tokens['deploy-bot']! });
    expect(after.body.status).toBe('pending');
    expect(after.body.progress?.votes ?? []).toEqual([]);
  });

  it('one agent’s hostile intents never fail other agents’ submissions in the same burst', async () => {
    const good = Array.from({ length: 36 }, (_, i) =>
      t.api('POST', '/v1/actions', { token: t.tokens['deploy-bot']!, body: { ...intents.read, action: { ...intents.read.action, params: { i } } } }),
    );
    const evil = Array.from({ length: 4 }, () => t.api('POST', '/v1/actions', { token: t.tokens['owner-bot'] ?? t.tokens['deploy-bot']!, rawBody: intentText(hostile[0]!.params) }));
    const [goodResults, evilResults] = await Promise.all([Promise.all(good), Promise.all(evil)]);
    expect(goodResults.map((r) => r.status)).toEqual(good.map(() => 201));
    expect(evilResults.map((r) => r.status)).toEqual(evil.map(() => 400));
  });
});
