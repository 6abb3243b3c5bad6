import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deliveryModule } from '@countersign/delivery';
import { slackModule } from '@countersign/slack';
import { teamsModule } from '@countersign/teams';
import { FakeBotFramework, teamsDirectoryYaml } from './fakes/bot-connector.ts';
import { FakeSlack } from './fakes/slack-api.ts';
import { startTestService, type ApiResponse, type TestService } from './support/service.ts';

// Every route the service registers — the API's, Slack's, Teams', health, whatever modules add
// later — answers framing errors with problem+json and never a 5xx: an over-long or badly
// encoded path parameter, a wrong method, a wrong content type, malformed JSON. The list comes
// from the app itself (app.registeredRoutes), so a new route is walked without editing this.

let t: TestService;
let slack: FakeSlack;
let teams: FakeBotFramework;

beforeAll(async () => {
  slack = await FakeSlack.start({ teamId: 'T0TEAM0001', channels: [], users: [] });
  teams = await FakeBotFramework.start();
  t = await startTestService({
    modules: [slackModule, teamsModule, deliveryModule],
    env: { SLACK_BOT_TOKEN: slack.token, SLACK_SIGNING_SECRET: 'test-signing-secret-0123456789', SLACK_TEAM_ID: 'T0TEAM0001', SLACK_API_URL: slack.url, ...teams.env() },
    directory: await teamsDirectoryYaml(),
  });
});
afterAll(async () => {
  await t?.stop();
  await slack?.close();
  await teams?.close();
});

function expectProblem(res: ApiResponse, where: string): void {
  expect(res.status, `${where}: ${res.text.slice(0, 200)}`).toBeGreaterThanOrEqual(400);
  expect(res.status, `${where}: ${res.text.slice(0, 200)}`).toBeLessThan(500);
  expect(res.headers.get('content-type'), where).toMatch(/^application\/problem\+json/);
  expect(res.body, where).toMatchObject({ code: expect.any(String), status: res.status, type: expect.stringContaining(res.body?.code) });
}

/** The route's URL with every `:param` replaced by `value`. */
function fill(url: string, value: string): string {
  return url.replace(/:[A-Za-z0-9_]+/g, value).replace(/\*$/, value);
}

function routes() {
  const seen = t.service.app.registeredRoutes.filter((r) => r.method !== 'OPTIONS');
  expect(seen.length).toBeGreaterThan(10);
  return seen;
}

describe('every registered route answers bad framing with problem+json', () => {
  it('lists the routes of every module (API, Slack, Teams, health)', () => {
    const urls = routes().map((r) => `${r.method} ${r.url}`);
    expect(urls).toEqual(expect.arrayContaining(['POST /v1/actions', 'GET /v1/actions/:id', 'POST /slack/events', 'POST /api/messages', 'GET /readyz']));
  });

  it('an over-long path parameter: a problem, not Fastify’s raw 414', async () => {
    for (const r of routes().filter((r) => r.url.includes(':'))) {
      const res = await t.api(r.method, fill(r.url, 'a'.repeat(3000)));
      expectProblem(res, `${r.method} ${r.url} long param`);
    }
    // The case from the report, on the read route.
    const res = await t.api('GET', `/v1/actions/${'x'.repeat(3000)}`, { token: t.tokens.alice });
    expectProblem(res, 'read with a 3,000-character id');
    expect(res.body.code).toBe('invalid_request');
  });

  it('bad URL encoding in a path or query', async () => {
    for (const r of routes()) {
      const url = r.url.includes(':') ? fill(r.url, '%E0%A4%A') : `${r.url}?x=%E0%A4%A`;
      const res = await t.api(r.method, url);
      if (res.status < 300) continue; // a route that ignores its query may answer normally
      expectProblem(res, `${r.method} ${r.url} bad encoding`);
    }
    expectProblem(await t.api('GET', '/v1/actions/%E0%A4%A'), 'bad encoding in an action id');
  });

  it('a method the route does not have', async () => {
    for (const r of routes()) {
      const other = r.method === 'DELETE' ? 'PATCH' : 'DELETE';
      if (routes().some((x) => x.url === r.url && x.method === other)) continue;
      expectProblem(await t.api(other, fill(r.url, 'act_00000000000000000000')), `${other} ${r.url}`);
    }
  });

  it('unknown routes', async () => {
    for (const url of ['/', '/v2/actions', '/v1/actions/act_00000000000000000000/nothing', '/%2e%2e/etc/passwd']) {
      expectProblem(await t.api('GET', url), `GET ${url}`);
    }
  });

  it('a body of the wrong content type, and malformed JSON, on every route that takes a body', async () => {
    for (const r of routes().filter((r) => r.method === 'POST' || r.method === 'PUT' || r.method === 'PATCH')) {
      const url = fill(r.url, 'act_00000000000000000000');
      const wrongType = await t.api(r.method, url, { rawBody: '<xml/>', headers: { 'content-type': 'application/xml' } });
      expectProblem(wrongType, `${r.method} ${r.url} xml`);
      const malformed = await t.api(r.method, url, { rawBody: '{"a":', headers: { 'content-type': 'application/json' } });
      expectProblem(malformed, `${r.method} ${r.url} malformed`);
    }
  });

  it('headers too large for the HTTP parser: problem+json written on the socket', async () => {
    const res = await fetch(`${t.url}/v1/actions`, { headers: { 'x-filler': 'a'.repeat(40_000) } });
    expect(res.status).toBe(431);
    expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(await res.json()).toMatchObject({ status: 431, code: 'invalid_request' });
  });
});
