import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SettingsError } from '@countersign/config/env';
import { buildCardModel } from '@countersign/core';
import { teamsFirstScreenLines, teamsModule, type TeamsCardRef } from '@countersign/teams';
import { FakeBotFramework, teamsDirectoryYaml, teamsUsers } from './fakes/bot-connector.ts';
import { intents, startTestService, type TestService } from './support/service.ts';

// Bot Framework authentication on POST /api/messages: with credentials configured, every
// request's JWT is validated by the SDK against the (fake) channel issuer's OpenID keys; any
// failure is a 401 and nothing is recorded. Without credentials the module runs only in the
// explicit development mode.

const { alice, bob } = teamsUsers;

describe('with credentials', () => {
  let fake: FakeBotFramework;
  let t: TestService;
  let actionId: string;
  let ref: TeamsCardRef;

  beforeAll(async () => {
    fake = await FakeBotFramework.start();
    for (const u of Object.values(teamsUsers)) fake.users.set(u.id, u);
    t = await startTestService({ modules: [teamsModule], env: fake.env(), directory: await teamsDirectoryYaml() });
    expect((await fake.send(t.url, fake.installPersonal(bob))).status).toBe(200);
    const res = await t.api('POST', '/v1/actions', { token: t.tokens['deploy-bot']!, body: intents.prodDelete });
    actionId = res.body.id;
    const store = t.service.context.store;
    const model = buildCardModel((await store.findAction(actionId))!, [], t.service.context.config.current().directory);
    ref = (await t.service.context.channels.get('teams')!.postCard(model, { target: fake.personalChatId(bob) })) as unknown as TeamsCardRef;
  });
  afterAll(async () => {
    await t?.stop();
    await fake?.close();
  });

  const approveByBob = () => fake.invoke(bob, { conversationId: ref.conversationId, activityId: ref.activityId, kind: 'personal' }, 'approve', { actionId });

  it('refuses missing, malformed, forged, misaddressed and expired tokens with 401, recording nothing', async () => {
    const serviceUrl = fake.serviceUrl;
    const attempts: [string, string | null][] = [
      ['no Authorization header', null],
      ['not a bearer token', `Basic ${Buffer.from('a:b').toString('base64')}`],
      ['garbage', 'Bearer not.a.jwt'],
      ['signed with another key (same kid)', `Bearer ${await fake.channelToken({ signWith: 'stranger' })}`],
      ['unknown key id', `Bearer ${await fake.channelToken({ signWith: 'stranger', kid: 'someone-else' })}`],
      // A real key of the channel's issuer, but endorsed only for another channel (webchat).
      ['signed with a key not endorsed for msteams', `Bearer ${await fake.channelToken({ signWith: 'otherChannel' })}`],
      ['for another bot', `Bearer ${await fake.channelToken({ audience: '00000000-0000-4000-8000-00000000000b' })}`],
      ['from another issuer', `Bearer ${await fake.channelToken({ issuer: 'https://sts.windows.net/f8cdef31-a31e-4b4a-93e4-5f571e91255a/' })}`],
      // Passes the SDK's Emulator validation (same keys here); only channel tokens may vote.
      [
        'an Entra (Emulator-style) token for this app',
        `Bearer ${await fake.channelToken({ issuer: 'https://sts.windows.net/d6d49420-f39b-4df7-a1dc-d59a935871db/', claims: { ver: '1.0', appid: fake.appId } })}`,
      ],
      ['for another serviceUrl', `Bearer ${await fake.channelToken({ serviceUrl: 'http://127.0.0.1:9/elsewhere/' })}`],
      ['expired', `Bearer ${await fake.channelToken({ expiresInSeconds: -600 })}`],
    ];
    for (const [why, authorization] of attempts) {
      const res = await fake.send(t.url, approveByBob(), { authorization });
      expect(res.status, why).toBe(401);
      expect(res.body, why).toMatchObject({ code: 'unauthenticated', status: 401 });
    }
    const votes = await t.service.context.store.votesFor(actionId);
    expect(votes).toEqual([]);
    // Nothing reached the bot either: no roster look-up, no message.
    expect(fake.calls.filter((c) => c.method === 'GET')).toEqual([]);
  });

  it('does not store a conversation from an unauthenticated installation', async () => {
    const res = await fake.send(t.url, fake.installPersonal(alice), { authorization: null });
    expect(res.status).toBe(401);
    expect(await t.prisma.teamsConversation.count({ where: { aadObjectId: alice.aadObjectId } })).toBe(0);
  });

  it('accepts the same click with a valid token', async () => {
    const res = await fake.send(t.url, approveByBob());
    expect(res.status).toBe(200);
    expect(JSON.stringify(res.body.value)).toContain('Your approval is recorded');
    expect((await t.service.context.store.votesFor(actionId)).map((v) => v.personId)).toEqual(['bob']);
  });

  it('gets its outbound token from the configured login endpoint, and the connector checks it', () => {
    expect(fake.tokensIssued).toBeGreaterThanOrEqual(1);
    expect(fake.calls.every((c) => c.status !== 401)).toBe(true);
  });
});

describe('with a certificate instead of a password', () => {
  it('signs in with a client assertion and talks to the connector', async () => {
    const fake = await FakeBotFramework.start({ credential: 'certificate' });
    const env = fake.env();
    expect(env.MICROSOFT_APP_PASSWORD).toBeUndefined();
    expect(env.MICROSOFT_APP_CERT_THUMBPRINT).toMatch(/^[0-9A-F]{40}$/);
    const t = await startTestService({ modules: [teamsModule], env, directory: await teamsDirectoryYaml() });
    try {
      const team = { id: '19:cert-team@thread.tacv2', name: 'Cert', channels: [{ id: '19:cert-team@thread.tacv2' }, { id: '19:cert-b@thread.tacv2', name: 'B' }] };
      expect((await fake.send(t.url, fake.installInTeam(team, alice))).status).toBe(200);
      // Listing the team's channels needed an app token: only a valid assertion gets one.
      expect(fake.tokensIssued).toBe(1);
      expect(fake.calls).toEqual([expect.objectContaining({ method: 'GET', status: 200 })]);
      expect(await t.prisma.teamsConversation.count({ where: { teamId: team.id } })).toBe(2);
    } finally {
      await t.stop();
      await fake.close();
    }
  });
});

describe('configuration', () => {
  it('refuses to start with an app id but no secret, naming the variable', async () => {
    await expect(startTestService({ modules: [teamsModule], env: { MICROSOFT_APP_ID: '6f1c2a3e-1b2d-4c5e-8f90-0a1b2c3d4e00', MICROSOFT_APP_TENANT_ID: '6f1c2a3e-1b2d-4c5e-8f90-0a1b2c3d4e00' } })).rejects.toThrow(
      /MICROSOFT_APP_PASSWORD/,
    );
    await expect(startTestService({ modules: [teamsModule], env: { MICROSOFT_APP_ID: '6f1c2a3e-1b2d-4c5e-8f90-0a1b2c3d4e00', MICROSOFT_APP_PASSWORD: 'x' } })).rejects.toThrow(
      SettingsError,
    );
  });

  it('refuses development mode in production, naming the variable', async () => {
    const env = { TEAMS_DEV_MODE: '1', MICROSOFT_APP_TENANT_ID: '6f1c2a3e-1b2d-4c5e-8f90-0a1b2c3d4e00', NODE_ENV: 'production' };
    await expect(startTestService({ modules: [teamsModule], env })).rejects.toThrow(/TEAMS_DEV_MODE is refused with NODE_ENV=production/);
  });

  it('runs without credentials only in the explicit development mode, and says so', async () => {
    const fake = await FakeBotFramework.start();
    const tenant = fake.tenantId;
    const off = await startTestService({ modules: [teamsModule] });
    try {
      expect(off.service.context.channels.has('teams')).toBe(false);
      expect((await fake.send(off.url, fake.installPersonal(alice), { authorization: null })).status).toBe(404);
    } finally {
      await off.stop();
    }
    const env = { TEAMS_DEV_MODE: '1', MICROSOFT_APP_TENANT_ID: tenant };
    expect(teamsFirstScreenLines(env).join('\n')).toMatch(/TEAMS DEVELOPMENT MODE.*UNAUTHENTICATED/);
    const dev = await startTestService({ modules: [teamsModule], env });
    try {
      expect((await fake.send(dev.url, fake.installPersonal(alice), { authorization: null })).status).toBe(200);
      expect(await dev.prisma.teamsConversation.count({ where: { aadObjectId: alice.aadObjectId } })).toBe(1);

      // Unauthenticated, so only straight from this machine: not from another address, and not
      // through a local proxy or tunnel (which would make any remote request look local).
      const app = dev.service.context.app;
      const installBob = (remoteAddress: string, headers: Record<string, string> = {}) =>
        app.inject({ method: 'POST', url: '/api/messages', remoteAddress, headers: { 'content-type': 'application/json', ...headers }, payload: fake.installPersonal(bob) });
      const refused = [
        await installBob('10.20.30.40'),
        await installBob('192.168.1.7'),
        await installBob('127.0.0.1', { 'x-forwarded-for': '203.0.113.9' }),
        await installBob('127.0.0.1', { forwarded: 'for=203.0.113.9;proto=https' }),
        await installBob('::1', { 'x-forwarded-host': 'abc.ngrok.example' }),
      ];
      for (const res of refused) {
        expect(res.statusCode).toBe(403);
        expect(res.json()).toMatchObject({ status: 403, code: 'forbidden' });
      }
      expect(await dev.prisma.teamsConversation.count({ where: { aadObjectId: bob.aadObjectId } })).toBe(0);
      // The same request straight from this machine is taken.
      expect((await installBob('127.0.0.1')).statusCode).toBe(200);
      expect(await dev.prisma.teamsConversation.count({ where: { aadObjectId: bob.aadObjectId } })).toBe(1);
    } finally {
      await dev.stop();
      await fake.close();
    }
  });
});
