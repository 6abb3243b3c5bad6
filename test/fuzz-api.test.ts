import fc from 'fast-check';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { intents, startTestService, type ApiResponse, type TestService } from './support/service.ts';

// Property-based fuzzing of every body the API takes — intents, votes, overrides, cancels,
// redemptions — as raw JSON text (so lone surrogates, 1e400, NUL and deep nesting can be
// written at all). Properties: never a 5xx; every refusal is problem+json with a stable code;
// nothing is stored for a refused request (rows counted in Postgres against the successes).
// `npm test` runs FUZZ_RUNS (default 5,000) cases; `npm run fuzz` runs 100,000.

const RUNS = Number(process.env.FUZZ_RUNS ?? 5_000);
const STABLE_CODES = new Set([
  'invalid_intent', 'invalid_request', 'unauthenticated', 'unknown_principal', 'forbidden', 'self_approval', 'not_eligible',
  'delegation_not_allowed', 'not_overridable', 'unknown_identity', 'not_found', 'already_voted', 'already_decided', 'expired',
  'idempotency_conflict', 'already_redeemed', 'invalid_release_token', 'payload_too_large', 'unsupported_media_type', 'reason_required',
]);

let t: TestService;
let db: pg.Client;
let actionIds: string[];

beforeAll(async () => {
  t = await startTestService();
  db = new pg.Client({ connectionString: t.databaseUrl });
  await db.connect();
  // A few real actions to aim votes, cancels and overrides at: pending, refused, approved.
  actionIds = [];
  for (const body of [intents.prodDelete, intents.prodDelete, intents.piiExport, intents.read]) {
    actionIds.push((await t.api('POST', '/v1/actions', { token: t.tokens['deploy-bot']!, body })).body.id);
  }
});
afterAll(async () => {
  await db?.end();
  await t?.stop();
});

async function count(table: string): Promise<number> {
  return Number((await db.query(`SELECT count(*)::int AS n FROM "${table}"`)).rows[0].n);
}

// ---- generators of raw JSON text ------------------------------------------------------------

/** Strings a hostile client would send: lone surrogates, NUL, controls, huge, plain. */
const nastyString = fc.oneof(
  fc.string({ maxLength: 20 }),
  fc.constantFrom('\\ud800', '\\udfff', 'a\\u0000b', '\\u0000', '\\ud83d\\ude00', '   ', '', '\\n\\t', '%E0%A4%A', '<script>'),
  fc.integer({ min: 16_000, max: 20_000 }).map((n) => 'x'.repeat(n)),
);
const jsonString = nastyString.map((s) => (s.includes('\\') ? `"${s}"` : JSON.stringify(s)));
const nastyNumber = fc.oneof(
  fc.double({ noNaN: true, noDefaultInfinity: true }).map((n) => String(n)),
  fc.constantFrom('1e400', '-1e400', '0', '-0', '1e-400', '123456789012345678901234567890', '0.1'),
);
const deep = fc.integer({ min: 10, max: 3000 }).map((d) => `${'['.repeat(d)}${']'.repeat(d)}`);
const rawValue: fc.Arbitrary<string> = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    jsonString,
    nastyNumber,
    fc.constantFrom('true', 'false', 'null'),
    deep,
    fc.array(tie('value'), { maxLength: 4 }).map((items) => `[${items.join(',')}]`),
    fc.array(fc.tuple(jsonString, tie('value')), { maxLength: 4 }).map((entries) => `{${entries.map(([k, v]) => `${k}:${v}`).join(',')}}`),
  ),
})).value;

/** An object text with some of the expected keys, some of them hostile, plus stray keys. */
function objectOf(fields: Record<string, fc.Arbitrary<string>>): fc.Arbitrary<string> {
  const entries = Object.entries(fields).map(([k, arb]) => fc.option(arb.map((v) => `${JSON.stringify(k)}:${v}`), { nil: undefined }));
  return fc
    .tuple(fc.tuple(...entries), fc.option(fc.tuple(jsonString, rawValue), { nil: undefined }))
    .map(([present, stray]) => `{${[...present.filter((e) => e !== undefined), ...(stray ? [`${stray[0]}:${stray[1]}`] : [])].join(',')}}`);
}

/**
 * A valid intent with one hostile value planted at one place: the shape most likely to get
 * past validation and reach the engine, the writer and Postgres.
 */
const PLACEHOLDER = '"__HOSTILE__"';
const plantable = [
  (v: string) => ({ action: { type: 'db.query', resource: 'orders-replica', params: { note: v } }, risk: { class: 'read' } }),
  (v: string) => ({ action: { type: 'db.query', resource: v }, risk: { class: 'read' } }),
  (v: string) => ({ action: { type: 'db.query', resource: 'orders-replica', summary: v }, risk: { class: 'read' } }),
  (v: string) => ({ ...intents.prodDelete, justification: v }),
  (v: string) => ({ ...intents.prodDelete, context: { environment: 'production', attributes: { ticket: v } } }),
  (v: string) => ({ ...intents.prodDelete, authority: { ticket: v } }),
  (v: string) => ({ ...intents.prodDelete, action: { ...intents.prodDelete.action, params: { [v]: 1 } } }),
];
const plantedIntent = fc
  .tuple(fc.integer({ min: 0, max: plantable.length - 1 }), fc.oneof(jsonString, nastyNumber, rawValue))
  .map(([i, raw]) => {
    const text = JSON.stringify(plantable[i]!('__HOSTILE__'));
    // A planted key must stay a string: raw non-string values become keys' strings.
    return text.replace(PLACEHOLDER, raw.startsWith('"') || !text.includes(`${PLACEHOLDER}:`) ? raw : JSON.stringify(raw));
  });

const okString = (values: string[]) => fc.oneof(fc.constantFrom(...values).map((v) => JSON.stringify(v)), jsonString, rawValue);
const intentText = fc.oneof(
  { arbitrary: plantedIntent, weight: 4 },
  objectOf({
    action: objectOf({ type: okString(['db.query', 'environment.delete', 'data.export']), resource: okString(['orders-replica', 'env/prod-eu-1']), params: rawValue, summary: jsonString }),
    context: objectOf({ environment: okString(['production', 'staging']), attributes: rawValue }),
    risk: objectOf({ class: okString(['read', 'destructive']), urgency: okString(['low', 'high']) }),
    justification: jsonString,
    onBehalfOf: okString(['alice', 'nobody']),
    callbackUrl: okString(['https://example.com/hook', 'http://127.0.0.1/x']),
  }),
  rawValue,
  fc.string({ maxLength: 40 }),
);
const decisionText = objectOf({ decision: okString(['approve', 'deny']), reason: jsonString });
const reasonText = objectOf({ reason: jsonString });
const redeemText = objectOf({ token: jsonString, audience: jsonString, intent: rawValue });

type Request = { route: string; token: string; body: string };
const people = ['alice', 'bob', 'carol', 'erin', 'deploy-bot'];
const request: fc.Arbitrary<Request> = fc.oneof(
  fc.record({ route: fc.constant('/v1/actions'), token: fc.constant('deploy-bot'), body: intentText }),
  fc.record({ route: fc.integer({ min: 0, max: 3 }).map((i) => `@${i}/votes`), token: fc.constantFrom(...people), body: decisionText }),
  fc.record({ route: fc.integer({ min: 0, max: 3 }).map((i) => `@${i}/cancel`), token: fc.constantFrom(...people), body: reasonText }),
  fc.record({ route: fc.integer({ min: 0, max: 3 }).map((i) => `@${i}/override`), token: fc.constantFrom(...people), body: reasonText }),
  fc.record({ route: fc.constant('/v1/releases/redeem'), token: fc.constant('deploy-bot'), body: redeemText }),
);

function resolveRoute(route: string): string {
  const m = /^@(\d)\/(.*)$/.exec(route);
  return m ? `/v1/actions/${actionIds[Number(m[1])]}/${m[2]}` : route;
}

function checkResponse(res: ApiResponse, req: Request): void {
  const where = `${req.route} ${req.body.slice(0, 120)} → ${res.status} ${res.text.slice(0, 200)}`;
  if (res.status >= 500) throw new Error(`5xx: ${where}`);
  if (res.status >= 400) {
    if (!/^application\/problem\+json/.test(res.headers.get('content-type') ?? '')) throw new Error(`not problem+json: ${where}`);
    if (!STABLE_CODES.has(res.body?.code)) throw new Error(`unstable code ${res.body?.code}: ${where}`);
  }
}

describe('fuzzing every body the API takes', () => {
  it(`${RUNS} hostile requests: no 5xx, problem+json with a stable code, nothing stored when refused`, async () => {
    const before = { actions: await count('Action'), votes: await count('Vote') };
    let acceptedActions = 0;
    let acceptedVotes = 0;
    await fc.assert(
      fc.asyncProperty(request, async (req) => {
        const res = await t.api('POST', resolveRoute(req.route), { token: t.tokens[req.token]!, rawBody: req.body, headers: { 'content-type': 'application/json' } });
        checkResponse(res, req);
        if (req.route === '/v1/actions' && res.status === 201) acceptedActions++;
        if (req.route.endsWith('/votes') && res.status === 201) acceptedVotes++;
      }),
      { numRuns: RUNS, seed: process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : undefined, endOnFailure: true },
    );
    expect(await count('Action')).toBe(before.actions + acceptedActions);
    expect(await count('Vote')).toBe(before.votes + acceptedVotes);
    // The chain stayed gapless whatever happened.
    const chain = (await db.query('SELECT count(*)::int AS n, max(seq)::int AS top FROM "Artifact"')).rows[0];
    expect(chain.top).toBe(chain.n);
  }, Math.max(600_000, RUNS * 30));
});
