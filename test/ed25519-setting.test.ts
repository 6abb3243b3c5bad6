import { describe, expect, it } from 'vitest';
import { parseSettings, SettingsError } from '../apps/server/src/settings.ts';

// COUNTERSIGN_ED25519 (packages/evidence/src/ed25519.ts): unset means libsodium where it loads;
// a value that is neither libsodium nor openssl stops the service naming the variable, before
// anything signs (the evidence package reads it only at its first signature).
const base = { DATABASE_URL: 'postgres://u:p@127.0.0.1:5432/db', REDIS_URL: 'redis://127.0.0.1:6379' };

describe('COUNTERSIGN_ED25519', () => {
  it('takes libsodium, openssl, or nothing', () => {
    expect(parseSettings(base).COUNTERSIGN_ED25519).toBeUndefined();
    expect(parseSettings({ ...base, COUNTERSIGN_ED25519: '' }).COUNTERSIGN_ED25519).toBeUndefined();
    expect(parseSettings({ ...base, COUNTERSIGN_ED25519: 'openssl' }).COUNTERSIGN_ED25519).toBe('openssl');
    expect(parseSettings({ ...base, COUNTERSIGN_ED25519: 'libsodium' }).COUNTERSIGN_ED25519).toBe('libsodium');
  });

  it('anything else stops the service, naming the variable', () => {
    const bad = () => parseSettings({ ...base, COUNTERSIGN_ED25519: 'OpenSSL-fips' });
    expect(bad).toThrow(SettingsError);
    expect(bad).toThrow(/must be libsodium or openssl[\s\S]*COUNTERSIGN_ED25519/);
  });
});
