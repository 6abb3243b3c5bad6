import { describe, expect, it } from 'vitest';
import { SettingsError } from '@countersign/config/env';
import { parseConsoleSettings } from '../src/settings.ts';

const PROVIDER = { COUNTERSIGN_OIDC_ISSUER: 'https://login.example.com', COUNTERSIGN_OIDC_CLIENT_ID: 'countersign', COUNTERSIGN_OIDC_CLIENT_SECRET: 'hunter2-secret' };

describe('console settings', () => {
  it('takes a named identity provider, or the development one outside production', () => {
    expect(parseConsoleSettings(PROVIDER)).toMatchObject({ ...PROVIDER, COUNTERSIGN_OIDC_CLAIM: 'email', COUNTERSIGN_OIDC_DEV: false });
    expect(parseConsoleSettings({ COUNTERSIGN_OIDC_DEV: '1' })).toMatchObject({ COUNTERSIGN_OIDC_DEV: true });
  });

  it('refuses the development provider in production and a half-named provider, naming the variable', () => {
    expect(() => parseConsoleSettings({ COUNTERSIGN_OIDC_DEV: '1', NODE_ENV: 'production' })).toThrow(/refuses to run with NODE_ENV=production.*\n\s*→ at COUNTERSIGN_OIDC_DEV/);
    expect(() => parseConsoleSettings({ ...PROVIDER, COUNTERSIGN_OIDC_CLIENT_SECRET: undefined })).toThrow(SettingsError);
    expect(() => parseConsoleSettings({ COUNTERSIGN_OIDC_CLIENT_SECRET: 'hunter2-secret' })).toThrow(/go together\n\s*→ at COUNTERSIGN_OIDC_ISSUER/);
    try {
      parseConsoleSettings({ COUNTERSIGN_OIDC_CLIENT_SECRET: 'hunter2-secret' });
    } catch (err) {
      expect((err as Error).message).not.toContain('hunter2');
    }
  });
});
