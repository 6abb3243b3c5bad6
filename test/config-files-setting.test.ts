import { describe, expect, it } from 'vitest';
import { parseConsoleSettings } from '@countersign/console';
import { parseDeliverySettings } from '@countersign/delivery';
import { parseSettings, SettingsError } from '../apps/server/src/settings.ts';

// Which policy and directory decide: config/… by default in development (npm start, tests),
// only the files named explicitly with NODE_ENV=production (the image, Compose, Kubernetes).
const base = { DATABASE_URL: 'postgres://u@127.0.0.1/db', REDIS_URL: 'redis://127.0.0.1:6379' };

describe('COUNTERSIGN_POLICY and COUNTERSIGN_DIRECTORY', () => {
  it('default to the demo config/ files outside production', () => {
    const s = parseSettings(base);
    expect(s.COUNTERSIGN_POLICY).toBe('config/policy.yaml');
    expect(s.COUNTERSIGN_DIRECTORY).toBe('config/directory.yaml');
    expect(parseSettings({ ...base, NODE_ENV: 'development' }).COUNTERSIGN_POLICY).toBe('config/policy.yaml');
  });

  it('have no default with NODE_ENV=production: the error names each missing variable', () => {
    expect(() => parseSettings({ ...base, NODE_ENV: 'production' })).toThrow(SettingsError);
    let message = '';
    try {
      parseSettings({ ...base, NODE_ENV: 'production' });
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toMatch(/required with NODE_ENV=production[^\n]*\n\s*→ at COUNTERSIGN_POLICY/);
    expect(message).toMatch(/required with NODE_ENV=production[^\n]*\n\s*→ at COUNTERSIGN_DIRECTORY/);
    // One named, the other not: only the other is reported.
    expect(() => parseSettings({ ...base, NODE_ENV: 'production', COUNTERSIGN_POLICY: '/etc/countersign/policy.yaml' })).toThrow(/COUNTERSIGN_DIRECTORY/);
    expect(() => parseSettings({ ...base, NODE_ENV: 'production', COUNTERSIGN_POLICY: '/etc/countersign/policy.yaml' })).not.toThrow(/COUNTERSIGN_POLICY/);
  });

  it('an empty value (VAR= in a Compose or env file) counts as not named', () => {
    expect(() => parseSettings({ ...base, NODE_ENV: 'production', COUNTERSIGN_POLICY: '', COUNTERSIGN_DIRECTORY: '/etc/d.yaml' })).toThrow(/COUNTERSIGN_POLICY/);
    expect(parseSettings({ ...base, COUNTERSIGN_POLICY: '' }).COUNTERSIGN_POLICY).toBe('config/policy.yaml');
    // The modules that read the policy file themselves read it the same way: empty is unset,
    // never the working folder (which failed start with EISDIR and no variable named).
    expect(parseDeliverySettings({ COUNTERSIGN_POLICY: '' }).COUNTERSIGN_POLICY).toBe('config/policy.yaml');
    expect(parseConsoleSettings({ COUNTERSIGN_POLICY: '' }).COUNTERSIGN_POLICY).toBe('config/policy.yaml');
    expect(parseDeliverySettings({ COUNTERSIGN_POLICY: '/etc/p.yaml' }).COUNTERSIGN_POLICY).toBe('/etc/p.yaml');
  });

  it('are taken as named in production', () => {
    const s = parseSettings({ ...base, NODE_ENV: 'production', COUNTERSIGN_POLICY: '/etc/countersign/policy.yaml', COUNTERSIGN_DIRECTORY: '/etc/countersign/directory.yaml' });
    expect(s.COUNTERSIGN_POLICY).toBe('/etc/countersign/policy.yaml');
    expect(s.COUNTERSIGN_DIRECTORY).toBe('/etc/countersign/directory.yaml');
    expect('NODE_ENV' in s).toBe(false);
  });
});
