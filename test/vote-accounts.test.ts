import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { intents, startTestService, type TestService } from './support/service.ts';

// The record names the account that acted, not only the directory person it became. Slack,
// Teams and the console are checked in their own end-to-end tests (slack-interactions,
// teams-approvals, console-approvals); here: the API, and an artifact's shape.

let t: TestService;
beforeAll(async () => {
  t = await startTestService();
});
afterAll(async () => {
  await t?.stop();
});

describe('vote artifacts name the account', () => {
  it('an API vote seals the id of the API key it came with', async () => {
    const submitted = await t.api('POST', '/v1/actions', { token: t.tokens['deploy-bot']!, body: intents.prodDelete });
    expect(submitted.body.status).toBe('pending');
    const voted = await t.api('POST', `/v1/actions/${submitted.body.id}/votes`, { token: t.tokens.alice!, body: { decision: 'approve', reason: 'checked' } });
    expect(voted.status).toBe(201);
    const key = await t.prisma.apiKey.findFirstOrThrow({ where: { principalId: 'alice', revokedAt: null } });
    const sealed = (await t.service.context.db.actions.artifactsOf(submitted.body.id)).filter((a) => a.kind === 'vote.recorded').map((a) => JSON.parse(a.canonical).event);
    expect(sealed).toHaveLength(1);
    expect(sealed[0]).toMatchObject({ personId: 'alice', channel: 'api', via: { channel: 'api', account: { apiKeyId: key.id } } });
  });
});
