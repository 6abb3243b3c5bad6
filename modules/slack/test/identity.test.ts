import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChannelCatalog } from '@countersign/contracts';
import type { ConfigView } from '@countersign/core';
import { loadDirectory } from '@countersign/directory';
import { slackChannel } from '../src/definition.ts';
import { personForSlackUser } from '../src/identity.ts';
import { parseSlackSettings, type SlackSettings } from '../src/settings.ts';
import { SlackApi } from '../src/slack-api.ts';
import { createWebClient } from '../src/web-client.ts';
import { FakeSlack } from '../../../test/fakes/slack-api.ts';

// Approver checks 1–2 for Slack against the real directory loader and the fake Web API:
// workspace / Grid organisation first, then exactly one directory person.

const DIRECTORY = `
version: 1
people:
  - { id: alice, name: Alice, email: alice@example.com, roles: [sre-lead], slack: { userId: U0ALICE01 } }
  - { id: bob, name: Bob, email: bob@example.com, roles: [security] }
`;

const TEAM = 'T0TEAM0001';
const ORG = 'E0ORG00001';
let fake: FakeSlack;
// The loader already refuses two people sharing an email or a Slack id; identity.ts still
// insists on exactly one match in case a directory ever reaches it another way.
const directory = loadDirectory(DIRECTORY, 'directory.yaml', { channels: new ChannelCatalog([slackChannel]) });
const config: ConfigView = { current: () => ({ directory, policy: { digest: 'x', evaluate: () => { throw new Error('unused'); } } }) };

beforeAll(async () => {
  fake = await FakeSlack.start({
    teamId: TEAM,
    users: [
      { id: 'U0ALICE01', team_id: TEAM, email: 'alice@example.com', is_email_confirmed: true, enterprise_id: ORG },
      { id: 'U0BOB0001', team_id: 'T0TEAM0002', email: 'bob@example.com', is_email_confirmed: true, enterprise_id: ORG },
      { id: 'U0BOBFAKE', team_id: TEAM, email: 'bob@example.com', is_email_confirmed: true },
      { id: 'U0NOBODY1', team_id: TEAM, email: 'nobody@example.com', is_email_confirmed: true },
      { id: 'U0MALLORY', team_id: TEAM, email: 'alice@example.com', is_email_confirmed: true },
      { id: 'U0GONE001', team_id: TEAM, email: 'bob@example.com', is_email_confirmed: true, deleted: true },
      { id: 'U0OUTSIDE', team_id: 'T0OTHER01', email: 'bob@example.com', is_email_confirmed: true, enterprise_id: 'E0OTHER01' },
    ],
  });
});
afterAll(async () => fake?.close());

function deps(env: Record<string, string>) {
  const settings = parseSlackSettings({ SLACK_BOT_TOKEN: fake.token, SLACK_SIGNING_SECRET: 'secret-secret', SLACK_API_URL: fake.url, ...env }) as SlackSettings;
  const logger = pino({ level: 'silent' });
  return { settings, config, api: new SlackApi(createWebClient(settings, logger), logger) };
}

describe('personForSlackUser (single workspace)', () => {
  const d = () => deps({ SLACK_TEAM_ID: TEAM });

  it('maps a directory Slack id without asking Slack', async () => {
    const calls = fake.calls.length;
    expect((await personForSlackUser(d(), { id: 'U0ALICE01', teamId: TEAM })).id).toBe('alice');
    expect(fake.calls.length).toBe(calls);
  });

  it('maps a confirmed email to exactly one person', async () => {
    expect((await personForSlackUser(d(), { id: 'U0BOBFAKE', teamId: TEAM })).id).toBe('bob');
  });

  it('refuses another workspace, a deleted account, an unknown email, and an email pinned to another Slack id', async () => {
    await expect(personForSlackUser(d(), { id: 'U0ALICE01', teamId: 'T0OTHER01' })).rejects.toMatchObject({ code: 'forbidden' });
    await expect(personForSlackUser(d(), { id: 'U0ALICE01', teamId: null })).rejects.toMatchObject({ code: 'forbidden' });
    await expect(personForSlackUser(d(), { id: 'U0GONE001', teamId: TEAM })).rejects.toMatchObject({ code: 'unknown_identity' });
    await expect(personForSlackUser(d(), { id: 'U0NOBODY1', teamId: TEAM })).rejects.toMatchObject({ code: 'unknown_identity' });
    await expect(personForSlackUser(d(), { id: 'U0NOSUCH1', teamId: TEAM })).rejects.toMatchObject({ code: 'unknown_identity' });
    // Same email as alice, but the directory pins alice to U0ALICE01.
    await expect(personForSlackUser(d(), { id: 'U0MALLORY', teamId: TEAM })).rejects.toMatchObject({ code: 'unknown_identity' });
  });

  it('a Slack failure while identifying is an error, never a match', async () => {
    fake.script('users.info', { status: 500, body: { ok: false } });
    await expect(personForSlackUser(d(), { id: 'U0BOBFAKE', teamId: TEAM })).rejects.toMatchObject({ name: 'ChannelError', retryable: true });
  });
});

describe('personForSlackUser (Enterprise Grid)', () => {
  const d = () => deps({ SLACK_ENTERPRISE_ID: ORG });

  it('accepts people of any workspace of the organisation', async () => {
    expect((await personForSlackUser(d(), { id: 'U0ALICE01', teamId: TEAM })).id).toBe('alice');
    expect((await personForSlackUser(d(), { id: 'U0BOB0001', teamId: 'T0TEAM0002' })).id).toBe('bob');
  });

  it('refuses accounts outside the organisation, even with a directory email', async () => {
    await expect(personForSlackUser(d(), { id: 'U0OUTSIDE', teamId: 'T0OTHER01' })).rejects.toMatchObject({ code: 'forbidden' });
    await expect(personForSlackUser(d(), { id: 'U0BOBFAKE', teamId: TEAM })).rejects.toMatchObject({ code: 'forbidden' });
  });

  it('with both set, both must hold', async () => {
    const both = deps({ SLACK_ENTERPRISE_ID: ORG, SLACK_TEAM_ID: TEAM });
    expect((await personForSlackUser(both, { id: 'U0ALICE01', teamId: TEAM })).id).toBe('alice');
    await expect(personForSlackUser(both, { id: 'U0BOB0001', teamId: 'T0TEAM0002' })).rejects.toMatchObject({ code: 'forbidden' });
  });
});

/** A SettingsError line: the reason, then the variable it is about (z.prettifyError's layout). */
const problem = (variable: string, reason: string) => new RegExp(`✖ ${reason}.*\\n\\s*→ at ${variable}\\b`);

describe('parseSlackSettings', () => {
  it('is off without Slack variables and fails loudly naming a bad one', () => {
    expect(parseSlackSettings({})).toBeNull();
    expect(() => parseSlackSettings({ SLACK_BOT_TOKEN: 'xoxb-1', SLACK_SIGNING_SECRET: 'secret-secret' })).toThrow(/SLACK_TEAM_ID/);
    expect(() => parseSlackSettings({ SLACK_BOT_TOKEN: 'nope', SLACK_SIGNING_SECRET: 'secret-secret', SLACK_TEAM_ID: TEAM })).toThrow(problem('SLACK_BOT_TOKEN', 'must be a bot token'));
    const s = parseSlackSettings({ SLACK_BOT_TOKEN: 'xoxb-1', SLACK_SIGNING_SECRET: 'secret-secret', SLACK_TEAM_ID: TEAM, SLACK_API_URL: 'http://127.0.0.1:9/api' });
    expect(s?.SLACK_API_URL).toBe('http://127.0.0.1:9/api/');
    expect(s?.SLACK_SOCKET_MODE).toBe(false);
    expect(() => parseSlackSettings({ SLACK_BOT_TOKEN: 'xoxb-1', SLACK_TEAM_ID: TEAM })).toThrow(problem('SLACK_SIGNING_SECRET', 'required'));
  });

  it('Socket Mode needs an app-level token and no signing secret; an app token alone is refused', () => {
    const base = { SLACK_BOT_TOKEN: 'xoxb-1', SLACK_TEAM_ID: TEAM };
    expect(() => parseSlackSettings({ ...base, SLACK_SOCKET_MODE: '1' })).toThrow(problem('SLACK_APP_TOKEN', 'required with SLACK_SOCKET_MODE=1'));
    expect(() => parseSlackSettings({ ...base, SLACK_SOCKET_MODE: '1', SLACK_APP_TOKEN: 'xoxb-not-an-app-token' })).toThrow(problem('SLACK_APP_TOKEN', 'must be an app-level token'));
    expect(() => parseSlackSettings({ ...base, SLACK_SIGNING_SECRET: 'secret-secret', SLACK_APP_TOKEN: 'xapp-1-A0-1-abc' })).toThrow(problem('SLACK_SOCKET_MODE', 'SLACK_APP_TOKEN is set'));
    expect(() => parseSlackSettings({ ...base, SLACK_SOCKET_MODE: 'yes', SLACK_APP_TOKEN: 'xapp-1-A0-1-abc' })).toThrow(problem('SLACK_SOCKET_MODE', 'must be 1 or 0'));
    const s = parseSlackSettings({ ...base, SLACK_SOCKET_MODE: '1', SLACK_APP_TOKEN: 'xapp-1-A0-1-abc' });
    expect(s).toMatchObject({ SLACK_SOCKET_MODE: true, SLACK_APP_TOKEN: 'xapp-1-A0-1-abc' });
    expect(s?.SLACK_SIGNING_SECRET).toBeUndefined();
  });

  it('never echoes a secret in its error', () => {
    try {
      parseSlackSettings({ SLACK_BOT_TOKEN: 'xoxp-super-secret-user-token', SLACK_SIGNING_SECRET: 'x', SLACK_TEAM_ID: TEAM });
      expect.unreachable();
    } catch (err) {
      expect((err as Error).message).not.toContain('super-secret');
    }
  });
});
