import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseConsoleSettings } from '@countersign/console';
import { parseDeliverySettings } from '@countersign/delivery';
import { parseSettings, SettingsError } from '../apps/server/src/settings.ts';
import { waitFor } from './fakes/fake-channel.ts';
import { intents, startTestService } from './support/service.ts';

const ROOT = path.resolve(import.meta.dirname, '..');

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

describe('the demo organisation (config/, marked demo: true) in production', () => {
  const demoPolicy = fs.readFileSync(path.join(ROOT, 'config', 'policy.yaml'), 'utf8');
  const demoDirectory = fs.readFileSync(path.join(ROOT, 'config', 'directory.yaml'), 'utf8');

  it('stops the service at start, naming each demo file, whatever the paths are named', async () => {
    expect(demoPolicy).toMatch(/^demo: true$/m);
    expect(demoDirectory).toMatch(/^demo: true$/m);
    const started = startTestService({ policy: demoPolicy, directory: demoDirectory, env: { NODE_ENV: 'production' } });
    await expect(started).rejects.toThrow(/^configuration rejected:\n {2}COUNTERSIGN_POLICY: \S+policy\.yaml is the demo policy \(demo: true\), refused with NODE_ENV=production[^\n]*\n {2}COUNTERSIGN_DIRECTORY: \S+directory\.yaml is the demo directory/);
    // One of the two replaced is not enough.
    const ownDirectory = fs.readFileSync(path.join(ROOT, 'test', 'fixtures', 'directory.yaml'), 'utf8');
    await expect(startTestService({ policy: demoPolicy, directory: ownDirectory, env: { NODE_ENV: 'production' } })).rejects.toThrow(/COUNTERSIGN_POLICY: \S+ is the demo policy/);
  });

  it('decides under it outside production (npm start), and under files without the mark in production', async () => {
    const dev = await startTestService({ policy: demoPolicy, directory: demoDirectory });
    await dev.stop();
    const own = await startTestService({ policy: demoPolicy.replace(/^demo: true\n/m, ''), directory: demoDirectory.replace(/^demo: true\n/m, ''), env: { NODE_ENV: 'production' } });
    await own.stop();
  });

  it('a reload to a demo file in production is refused; the files in force go on deciding', async () => {
    const own = demoPolicy.replace(/^demo: true\n/m, '');
    const t = await startTestService({ policy: own, directory: demoDirectory.replace(/^demo: true\n/m, ''), env: { NODE_ENV: 'production' } });
    try {
      const before = t.service.gate.deps.config.current().policy.digest;
      const failedReloads = async () => {
        const text = (await t.api('GET', '/metrics')).text;
        return Number(/^countersign_config_reloads_total\{result="failed"\} (\d+)$/m.exec(text)?.[1] ?? 0);
      };
      const failedBefore = await failedReloads();
      fs.writeFileSync(path.join(t.configDir, 'policy.yaml'), demoPolicy);
      // The watcher reads the change, refuses it, and keeps the policy in force.
      await waitFor('the demo policy refused on reload', async () => (await failedReloads()) > failedBefore);
      expect(t.service.gate.deps.config.current().policy.digest).toBe(before);
      expect((t.service.gate.deps.config.current().policy as { demo?: boolean }).demo).toBe(false);
      expect((await t.api('POST', '/v1/actions', { token: t.tokens['deploy-bot'], body: intents.read })).status).toBe(201);
    } finally {
      await t.stop();
    }
  });
});
