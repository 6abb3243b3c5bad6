import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { teamsModule } from '@countersign/teams';
import { FakeBotFramework, teamsDirectoryYaml, teamsUsers } from './fakes/bot-connector.ts';
import { startTestService, type TestService } from './support/service.ts';

// When the Bot Framework's OpenID metadata or signing keys cannot be fetched, no Teams request
// can be authenticated: each is refused with 503 and Retry-After (the channel retries later),
// never let through and never a 500 or a misleading 401.

let fake: FakeBotFramework;
let t: TestService;

beforeAll(async () => {
  fake = await FakeBotFramework.start();
  for (const u of Object.values(teamsUsers)) fake.users.set(u.id, u);
  t = await startTestService({ modules: [teamsModule], env: fake.env(), directory: await teamsDirectoryYaml() });
});
afterAll(async () => {
  await t?.stop();
  await fake?.close();
});

describe('Teams with its identity provider down', () => {
  it('answers 503 problem+json with Retry-After, then works once the metadata is back', async () => {
    fake.identityDown = true;
    const res = await fetch(`${t.url}/api/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${await fake.channelToken({ serviceUrl: fake.serviceUrl })}` },
      body: JSON.stringify(fake.installPersonal(teamsUsers.bob)),
    });
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(await res.json()).toMatchObject({ status: 503, code: 'unavailable' });

    fake.identityDown = false;
    expect((await fake.send(t.url, fake.installPersonal(teamsUsers.bob))).status).toBe(200);
  });

  it('a request the SDK refuses as malformed is a problem too, not plain text', async () => {
    const res = await fetch(`${t.url}/api/messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(res.status).toBeLessThan(500);
    expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  });
});
