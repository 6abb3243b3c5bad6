import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { consoleModule } from '@countersign/console';
import { deliveryModule } from '@countersign/delivery';
import { slackModule } from '@countersign/slack';
import { teamsModule } from '@countersign/teams';
import { UNDOCUMENTED_ROUTES, openApiPath } from '../apps/server/src/openapi/index.ts';
import { FakeBotFramework, teamsDirectoryYaml } from './fakes/bot-connector.ts';
import { FakeSlack } from './fakes/slack-api.ts';
import { freshDatabase } from './support/database.ts';
import { OpenApiResponseChecker } from './support/openapi-check.ts';
import { intents, startTestService, type TestService } from './support/service.ts';
import { startTcpProxy } from './support/tcp-proxy.ts';

// The OpenAPI document is the service's contract: every route the app registered (API, Slack,
// Teams, delivery, console, probes) is in it or deliberately left out with a reason, and every
// response these requests receive — successes and problems alike — is a documented status with
// a documented media type and a body that validates against the document's schema.

let t: TestService;
let slack: FakeSlack;
let teams: FakeBotFramework;
let proxy: Awaited<ReturnType<typeof startTcpProxy>>;
let db: Awaited<ReturnType<typeof freshDatabase>>;
let checker: OpenApiResponseChecker | undefined;
let document: { paths: Record<string, Record<string, { responses: Record<string, { content?: Record<string, { schema?: unknown }> }> }>>; components: { schemas: Record<string, unknown> } };

const check = (method: string, route: string, res: Parameters<OpenApiResponseChecker['check']>[2]) => checker?.check(method, route, res);

beforeAll(async () => {
  slack = await FakeSlack.start({ teamId: 'T0TEAM0001', channels: [], users: [] });
  teams = await FakeBotFramework.start();
  // Postgres through a proxy this test can cut: the 503 answers are part of the contract.
  db = await freshDatabase();
  proxy = await startTcpProxy(Number(new URL(db.url).port));
  const viaProxy = new URL(db.url);
  viaProxy.port = String(proxy.port);
  t = await startTestService({
    databaseUrl: viaProxy.toString(),
    modules: [slackModule, teamsModule, deliveryModule, consoleModule],
    env: {
      SLACK_BOT_TOKEN: slack.token,
      SLACK_SIGNING_SECRET: 'test-signing-secret-0123456789',
      SLACK_TEAM_ID: 'T0TEAM0001',
      SLACK_API_URL: slack.url,
      COUNTERSIGN_OIDC_DEV: '1',
      COUNTERSIGN_DB_POOL: '4',
      ...teams.env(),
    },
    directory: await teamsDirectoryYaml(),
    onResponse: check,
  });
  const res = await fetch(`${t.url}/openapi.json`);
  expect(res.status).toBe(200);
  document = await res.json();
  checker = new OpenApiResponseChecker(document as never);
});
afterAll(async () => {
  await t?.stop();
  await proxy?.close();
  await db?.drop();
  await slack?.close();
  await teams?.close();
});

const undocumentedReason = (url: string) => UNDOCUMENTED_ROUTES.find((u) => url === u.prefix || url.startsWith(`${u.prefix}/`))?.reason;

describe('the document covers the app', () => {
  it('is OpenAPI 3.1 with the Problem schema', () => {
    expect(document).toMatchObject({ openapi: '3.1.0', info: { title: 'countersign' }, components: { schemas: { Problem: expect.any(Object), Action: expect.any(Object) } } });
  });

  it('every registered route is documented, or left out with a reason', () => {
    const routes = t.service.app.registeredRoutes.filter((r) => r.method !== 'OPTIONS');
    const urls = routes.map((r) => `${r.method} ${r.url}`);
    // The service really runs every kind of route this checks.
    expect(urls).toEqual(expect.arrayContaining(['POST /v1/actions', 'POST /slack/events', 'POST /api/messages', 'GET /readyz', 'GET /console', 'GET /v1/webhooks/signing-secret', 'GET /openapi.json', 'GET /docs']));
    const missing = routes.filter((r) => !document.paths[openApiPath(r.url)]?.[r.method.toLowerCase()] && !undocumentedReason(r.url));
    expect(missing).toEqual([]);
    // Nothing documented that the app does not serve, and nothing both documented and excluded.
    const served = new Set(urls.map((u) => u.replace(/:([A-Za-z0-9_]+)/g, '{$1}')));
    for (const [path, ops] of Object.entries(document.paths)) {
      expect(undocumentedReason(path), path).toBeUndefined();
      for (const method of Object.keys(ops)) expect(served.has(`${method.toUpperCase()} ${path}`), `${method} ${path}`).toBe(true);
    }
  });

  it('every operation lists its problem+json answers', () => {
    for (const [path, ops] of Object.entries(document.paths)) {
      for (const [method, op] of Object.entries(ops)) {
        const statuses = Object.keys(op.responses).map(Number);
        for (const s of [400, 500, 503]) expect(statuses, `${method} ${path}`).toContain(s);
        for (const s of statuses.filter((s) => s >= 400)) {
          expect(op.responses[String(s)]!.content, `${method} ${path} ${s}`).toEqual({ 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } });
        }
      }
    }
    // Authenticated operations say so and list 401; bodies list 413 and 415.
    const submit = document.paths['/v1/actions']!.post!;
    expect(Object.keys(submit.responses)).toEqual(expect.arrayContaining(['200', '201', '400', '401', '403', '409', '413', '415', '429', '503']));
  });

  it('serves a docs page that works offline and runs no script', async () => {
    const res = await t.api('GET', '/docs');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    expect(res.text).toContain('/v1/actions/{id}/votes');
    expect(res.text).not.toMatch(/<script|https?:\/\/(?!countersign\.dev)[a-z0-9.-]+\/[^"<\s]*\.(js|css)/i);
    const csp = res.headers.get('content-security-policy') ?? '';
    expect(csp).toMatch(/default-src 'none'/);
    expect(csp).not.toMatch(/script-src|unsafe-inline/);
  });
});

describe('the responses the service sends validate against the document', () => {
  const submit = (body: unknown, token = t.tokens['deploy-bot'], headers?: Record<string, string>) => t.api('POST', '/v1/actions', { token, body, headers });

  it('a representative run: every outcome, read, long-poll, vote, cancel, override, redeem, list, evidence, export, problems', async () => {
    const bot = t.tokens['deploy-bot']!;
    // Submit: approve (with a release token), refuse, escalate; an Idempotency-Key replay.
    const read = await submit(intents.read, bot, { 'idempotency-key': 'contract-1' });
    expect(read.status).toBe(201);
    expect((await submit(intents.read, bot, { 'idempotency-key': 'contract-1' })).status).toBe(200);
    expect((await submit(intents.unmatched)).body.status).toBe('refused');
    const pending = (await submit(intents.prodDelete)).body;
    expect(pending.status).toBe('pending');

    // Reads: the requester, an approver, a long-poll that times out on a pending action.
    expect((await t.api('GET', `/v1/actions/${pending.id}`, { token: bot })).status).toBe(200);
    expect((await t.api('GET', `/v1/actions/${pending.id}`, { token: t.tokens.alice })).status).toBe(200);
    expect((await t.api('GET', `/v1/actions/${pending.id}?wait=1`, { token: bot })).body.status).toBe('pending');
    expect((await t.api('GET', `/v1/actions/${read.body.id}?wait=5`, { token: bot })).body.status).toBe('approved');

    // Votes until approved; then the release token is redeemed once.
    expect((await t.api('POST', `/v1/actions/${pending.id}/votes`, { token: t.tokens.alice, body: { decision: 'approve', reason: 'checked' } })).status).toBe(201);
    const last = await t.api('POST', `/v1/actions/${pending.id}/votes`, { token: t.tokens.bob, body: { decision: 'approve', reason: 'fine' } });
    expect(last.body).toMatchObject({ decided: true, action: { status: 'approved' } });
    const approved = (await t.api('GET', `/v1/actions/${pending.id}`, { token: bot })).body;
    expect(approved.releaseToken).toEqual(expect.any(String));
    const redeemed = await t.api('POST', '/v1/releases/redeem', { token: t.tokens.grace, body: { token: approved.releaseToken } });
    expect(redeemed.status).toBe(201);
    expect((await t.api('POST', '/v1/releases/redeem', { token: t.tokens.grace, body: { token: approved.releaseToken } })).status).toBe(409);
    expect((await t.api('POST', '/v1/releases/redeem', { token: t.tokens.grace, body: { token: 'not.a.token' } })).status).toBe(403);

    // A deny ends a request; a cancel withdraws one.
    const denied = (await submit(intents.prodDelete)).body;
    expect((await t.api('POST', `/v1/actions/${denied.id}/votes`, { token: t.tokens.bob, body: { decision: 'deny', reason: 'not today' } })).body.action.status).toBe('refused');
    const withdrawn = (await submit(intents.prodDelete)).body;
    expect((await t.api('POST', `/v1/actions/${withdrawn.id}/cancel`, { token: bot, body: { reason: 'no longer needed' } })).body.status).toBe('cancelled');
    expect((await t.api('POST', `/v1/actions/${withdrawn.id}/cancel`, { token: bot })).status).toBe(409);

    // Override: a refusal a CTO may lift, with a reason (none: 400/422), once.
    const refused = (await submit(intents.piiExport)).body;
    const overridePath = `/v1/actions/${refused.id}/override`;
    // alice may not read it (no role it names): 404, as her GET.
    expect((await t.api('POST', overridePath, { token: t.tokens.alice, body: { reason: 'need it' } })).status).toBe(404);
    expect((await t.api('POST', overridePath, { token: t.tokens.dave, body: {} })).status).toBeGreaterThanOrEqual(400);
    expect((await t.api('POST', overridePath, { token: t.tokens.dave, body: { reason: 'regulator request REF-42' } })).body.status).toBe('approved');
    expect((await t.api('POST', overridePath, { token: t.tokens.dave, body: { reason: 'again' } })).status).toBe(403);

    // Lists, an inbox, a cursor page, evidence, the export (auditor), the keys.
    const page = await t.api('GET', '/v1/actions?limit=2', { token: bot });
    expect(page.body.items).toHaveLength(2);
    expect((await t.api('GET', `/v1/actions?limit=2&cursor=${page.body.nextCursor}`, { token: bot })).status).toBe(200);
    expect((await t.api('GET', '/v1/actions?awaiting=me&status=pending,approved', { token: t.tokens.alice })).status).toBe(200);
    expect((await t.api('GET', '/v1/actions', { token: t.tokens.grace })).status).toBe(200);
    const evidence = await t.api('GET', `/v1/actions/${pending.id}/evidence`, { token: bot });
    expect(evidence.body.artifacts.length).toBeGreaterThan(2);
    expect((await t.api('GET', '/v1/audit/export?format=jsonl', { token: t.tokens.grace })).status).toBe(200);
    expect((await t.api('GET', '/v1/audit/export?format=csv', { token: t.tokens.grace })).status).toBe(200);
    expect((await t.api('GET', '/v1/audit/export', { token: t.tokens.alice })).status).toBe(403);
    expect((await t.api('GET', '/.well-known/jwks.json')).body.keys.length).toBeGreaterThan(0);
    expect((await t.api('GET', '/v1/webhooks/signing-secret', { token: bot })).status).toBe(200);

    // Probes.
    expect((await t.api('GET', '/healthz')).status).toBe(200);
    expect((await t.api('GET', '/readyz')).status).toBe(200);
    expect((await t.api('GET', '/metrics')).status).toBe(200);

    // Problems: 400, 401, 403 (agent votes, self-approval), 404, 409, 413, 415, 422.
    expect((await submit({ action: { type: 'NOT A TYPE' } })).status).toBe(400);
    expect((await t.api('GET', '/v1/actions?status=nope', { token: bot })).status).toBe(400);
    expect((await t.api('GET', '/v1/actions/act_00000000000000000000')).status).toBe(401);
    expect((await t.api('GET', '/v1/actions', { token: 'cs_nope' })).status).toBe(401);
    const open = (await submit(intents.prodDelete)).body;
    expect((await t.api('POST', `/v1/actions/${open.id}/votes`, { token: bot, body: { decision: 'approve' } })).status).toBe(403);
    expect((await t.api('POST', `/v1/actions/${open.id}/votes`, { token: t.tokens.erin, body: { decision: 'approve', reason: 'mine' } })).status).toBe(403);
    expect((await t.api('GET', '/v1/actions/act_00000000000000000000', { token: bot })).status).toBe(404);
    expect((await t.api('GET', '/v1/actions/act_00000000000000000000/evidence', { token: bot })).status).toBe(404);
    expect((await t.api('POST', `/v1/actions/${open.id}/votes`, { token: t.tokens.alice, body: { decision: 'approve', reason: 'ok' } })).status).toBe(201);
    expect((await t.api('POST', `/v1/actions/${open.id}/votes`, { token: t.tokens.alice, body: { decision: 'approve', reason: 'ok' } })).status).toBe(409);
    expect((await t.api('POST', `/v1/actions/${open.id}/votes`, { token: t.tokens.judy, body: { decision: 'deny' } })).status).toBe(422);
    expect((await submit(intents.read, bot, { 'idempotency-key': 'contract-1' }).then(() => submit(intents.prodDelete, bot, { 'idempotency-key': 'contract-1' }))).status).toBe(409);
    expect((await t.api('POST', '/v1/actions', { token: bot, rawBody: JSON.stringify({ ...intents.read, justification: 'x'.repeat(70_000) }) })).status).toBe(413);
    expect((await t.api('POST', '/v1/actions', { token: bot, rawBody: '<intent/>', headers: { 'content-type': 'application/xml' } })).status).toBe(415);
    expect((await t.api('GET', '/v1/nothing-here', { token: bot })).status).toBe(404);
    expect((await t.api('DELETE', '/v1/actions', { token: bot })).status).toBe(404);

    // Chat webhooks: unsigned requests are refused as problems the document lists.
    expect((await t.api('POST', '/slack/events', { rawBody: 'payload=%7B%7D', headers: { 'content-type': 'application/x-www-form-urlencoded' } })).status).toBe(401);
    expect((await t.api('POST', '/api/messages', { body: { type: 'message' } })).status).toBe(401);

    // Postgres unreachable: 503 problems, from the API and from readiness.
    proxy.cut();
    try {
      expect((await submit(intents.read)).status).toBe(503);
      expect((await t.api('GET', '/readyz')).status).toBe(503);
    } finally {
      proxy.restore();
    }

    expect(checker!.violations).toEqual([]);
    // Not vacuous: the run reached these documented answers.
    expect([...checker!.covered]).toEqual(
      expect.arrayContaining([
        'POST /v1/actions 201',
        'POST /v1/actions 200',
        'POST /v1/actions 400',
        'POST /v1/actions 409',
        'POST /v1/actions 413',
        'POST /v1/actions 415',
        'POST /v1/actions 503',
        'GET /v1/actions/{id} 200',
        'GET /v1/actions/{id} 401',
        'GET /v1/actions/{id} 404',
        'POST /v1/actions/{id}/votes 201',
        'POST /v1/actions/{id}/votes 403',
        'POST /v1/actions/{id}/votes 409',
        'POST /v1/actions/{id}/votes 422',
        'POST /v1/actions/{id}/cancel 200',
        'POST /v1/actions/{id}/override 200',
        'POST /v1/releases/redeem 201',
        'GET /v1/actions 200',
        'GET /v1/actions/{id}/evidence 200',
        'GET /v1/audit/export 200',
        'GET /v1/audit/export 403',
        'GET /readyz 503',
      ]),
    );
  });

  it('429: a spent request budget is a documented problem', async () => {
    const limited = await startTestService({ env: { COUNTERSIGN_RATE_LIMIT_PER_KEY: '2' }, onResponse: check });
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 4; i++) statuses.push((await limited.api('GET', '/v1/actions', { token: limited.tokens['deploy-bot'] })).status);
      expect(statuses).toContain(429);
      expect(checker!.covered.has('GET /v1/actions 429')).toBe(true);
      expect(checker!.violations).toEqual([]);
    } finally {
      await limited.stop();
    }
  });

  it('the checker catches a response the document does not allow', () => {
    const probe = new OpenApiResponseChecker(document as never);
    const headers = new Headers({ 'content-type': 'application/json' });
    probe.check('GET', '/v1/actions/act_00000000000000000000', { status: 200, headers, body: { id: 'act_00000000000000000000', status: 'maybe' }, text: '' });
    probe.check('GET', '/healthz', { status: 418, headers, body: {}, text: '' });
    probe.check('GET', '/nowhere', { status: 404, headers, body: {}, text: '{}' });
    expect(probe.violations.map((v) => v.problem)).toEqual([expect.stringMatching(/must/), expect.stringMatching(/status 418 is not documented/), expect.stringMatching(/not a Problem/)]);
  });
});
