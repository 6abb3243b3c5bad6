import { describe, expect, it } from 'vitest';
import { SettingsError } from '@countersign/config/env';
import { parseTeamsSettings } from '../src/settings.ts';

const APP = '6f1c2a3e-1b2d-4c5e-8f90-0a1b2c3d4e00';
const TENANT = '0b9f6d2e-3c4a-4b5d-9e8f-7a6b5c4d3e2f';

function error(env: Record<string, string>): string {
  try {
    parseTeamsSettings(env);
  } catch (err) {
    expect(err).toBeInstanceOf(SettingsError);
    return (err as Error).message;
  }
  throw new Error('expected a SettingsError');
}

describe('parseTeamsSettings', () => {
  it('is off when nothing Teams-related is set', () => {
    expect(parseTeamsSettings({})).toEqual({ mode: 'off' });
  });

  it('runs as a bot with an app id, a password and a tenant (single tenant)', () => {
    expect(parseTeamsSettings({ MICROSOFT_APP_ID: APP, MICROSOFT_APP_PASSWORD: 'pw', MICROSOFT_APP_TENANT_ID: TENANT })).toEqual({
      mode: 'bot',
      appId: APP,
      tenantId: TENANT,
      credential: { kind: 'password', password: 'pw' },
      cloud: null,
    });
  });

  it('takes a certificate instead of a password', () => {
    const s = parseTeamsSettings({ MICROSOFT_APP_ID: APP, MICROSOFT_APP_TENANT_ID: TENANT, MICROSOFT_APP_CERT_THUMBPRINT: 'ab'.repeat(20), MICROSOFT_APP_CERT_KEY_FILE: '/k.pem' });
    expect(s).toMatchObject({ mode: 'bot', credential: { kind: 'certificate', thumbprint: 'AB'.repeat(20), keyFile: '/k.pem' } });
  });

  it('runs without credentials only in explicit development mode, still with a tenant', () => {
    expect(parseTeamsSettings({ TEAMS_DEV_MODE: '1', MICROSOFT_APP_TENANT_ID: TENANT })).toEqual({ mode: 'dev', tenantId: TENANT });
    expect(error({ TEAMS_DEV_MODE: '1' })).toMatch(/MICROSOFT_APP_TENANT_ID/);
    expect(error({ TEAMS_DEV_MODE: '1', MICROSOFT_APP_TENANT_ID: TENANT, MICROSOFT_APP_ID: APP, MICROSOFT_APP_PASSWORD: 'pw' })).toMatch(/TEAMS_DEV_MODE/);
  });

  it('refuses development mode when NODE_ENV=production, naming the variable', () => {
    for (const TEAMS_DEV_MODE of ['1', 'true']) {
      expect(error({ TEAMS_DEV_MODE, MICROSOFT_APP_TENANT_ID: TENANT, NODE_ENV: 'production' })).toMatch(/TEAMS_DEV_MODE.*NODE_ENV=production/);
    }
    expect(parseTeamsSettings({ TEAMS_DEV_MODE: '1', MICROSOFT_APP_TENANT_ID: TENANT, NODE_ENV: 'development' })).toEqual({ mode: 'dev', tenantId: TENANT });
    // Off, or a real bot, is fine in production.
    expect(parseTeamsSettings({ TEAMS_DEV_MODE: '0', NODE_ENV: 'production' })).toEqual({ mode: 'off' });
    expect(parseTeamsSettings({ MICROSOFT_APP_ID: APP, MICROSOFT_APP_PASSWORD: 'pw', MICROSOFT_APP_TENANT_ID: TENANT, NODE_ENV: 'production' })).toMatchObject({ mode: 'bot' });
  });

  it('fails loudly naming the variable, never echoing a secret', () => {
    expect(error({ MICROSOFT_APP_ID: APP, MICROSOFT_APP_TENANT_ID: TENANT })).toMatch(/MICROSOFT_APP_PASSWORD or MICROSOFT_APP_CERT_THUMBPRINT/);
    // A rule across variables is reported on the one to change, like a bad value.
    expect(error({ MICROSOFT_APP_ID: APP, MICROSOFT_APP_TENANT_ID: TENANT })).toMatch(/\n\s*→ at MICROSOFT_APP_PASSWORD$/);
    expect(error({ MICROSOFT_APP_ID: APP, MICROSOFT_APP_PASSWORD: 'pw' })).toMatch(/MICROSOFT_APP_TENANT_ID/);
    expect(error({ MICROSOFT_APP_ID: 'not-a-guid', MICROSOFT_APP_PASSWORD: 'pw', MICROSOFT_APP_TENANT_ID: TENANT })).toMatch(/MICROSOFT_APP_ID/);
    expect(error({ MICROSOFT_APP_PASSWORD: 'hunter2-secret' })).toMatch(/MICROSOFT_APP_ID is required/);
    expect(error({ MICROSOFT_APP_ID: APP, MICROSOFT_APP_PASSWORD: 'hunter2-secret', MICROSOFT_APP_TENANT_ID: TENANT, MICROSOFT_APP_CERT_THUMBPRINT: 'ab'.repeat(20) })).not.toContain('hunter2');
    expect(error({ MICROSOFT_APP_ID: APP, MICROSOFT_APP_PASSWORD: 'pw', MICROSOFT_APP_TENANT_ID: TENANT, MicrosoftAppType: 'MultiTenant' })).toMatch(/SingleTenant/);
  });

  it('takes custom cloud endpoints all together', () => {
    const base = { MICROSOFT_APP_ID: APP, MICROSOFT_APP_PASSWORD: 'pw', MICROSOFT_APP_TENANT_ID: TENANT };
    const s = parseTeamsSettings({
      ...base,
      TEAMS_CHANNEL_OPENID_METADATA_URL: 'http://127.0.0.1:1/botframework/.well-known/openidconfiguration',
      TEAMS_CHANNEL_TOKEN_ISSUER: 'http://127.0.0.1:1/botframework',
      TEAMS_LOGIN_URL: 'https://127.0.0.1:2/',
    });
    expect(s).toMatchObject({ cloud: { loginUrl: `https://127.0.0.1:2/${TENANT}`, oauthScope: 'https://api.botframework.com', loginCaFile: null } });
    expect(error({ ...base, TEAMS_LOGIN_URL: 'https://127.0.0.1:2' })).toMatch(/TEAMS_CHANNEL_OPENID_METADATA_URL, TEAMS_CHANNEL_TOKEN_ISSUER required/);
    expect(error({ ...base, TEAMS_LOGIN_URL: 'http://127.0.0.1:2' })).toMatch(/✖ must be an https URL\n\s*→ at TEAMS_LOGIN_URL/);
    expect(error({ ...base, TEAMS_LOGIN_CA_FILE: '/ca.pem' })).toMatch(/only apply with custom cloud endpoints/);
  });
});
