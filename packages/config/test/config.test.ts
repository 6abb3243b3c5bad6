import { mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError, loadConfigFiles, validateAgainst, watchConfig } from '../src/index.ts';
import type { ConfigSnapshot, ConfigWatcher } from '../src/index.ts';

const DIRECTORY = `version: 1
people:
  - { id: alice, name: Alice, email: alice@example.com, roles: [sre-lead] }
  - { id: erin, name: Erin, email: erin@example.com, roles: [developer] }
agents:
  - { id: deploy-bot, name: Deploy bot, owner: erin, roles: [deployer, security] }
`;

const policyWith = (reason: string) => `version: 1
rules:
  - id: reads
    when: 'has(risk.class) && risk.class == "read"'
    outcome: approve
    reason: ${reason}
`;

let dir: string;
let policyPath: string;
let directoryPath: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'countersign-config-'));
  policyPath = join(dir, 'policy.yaml');
  directoryPath = join(dir, 'directory.yaml');
  writeFileSync(policyPath, policyWith('first'));
  writeFileSync(directoryPath, DIRECTORY);
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('loadConfigFiles', () => {
  it('loads both files', () => {
    const { policy, directory } = loadConfigFiles({ policyPath, directoryPath });
    expect(policy.rules.map((r) => r.id)).toEqual(['reads']);
    expect(directory.person('alice')?.roles).toEqual(['sre-lead']);
  });

  it('a missing file is a ConfigError naming it', () => {
    rmSync(policyPath);
    expect(() => loadConfigFiles({ policyPath, directoryPath })).toThrow(new ConfigError(policyPath, 1, 1, 'file not found'));
  });

  it('a bad file is a ConfigError with its position', () => {
    writeFileSync(directoryPath, DIRECTORY.replace('alice@example.com', 'nope'));
    expect(() => loadConfigFiles({ policyPath, directoryPath })).toThrow(`${directoryPath}:3:38: people[0].email: Invalid email address`);
  });
});

describe('watchConfig', () => {
  let watcher: ConfigWatcher | undefined;
  afterEach(() => watcher?.close());

  // Poll instead of counting events: how many events a write produces is up to the OS.
  async function waitFor(condition: () => boolean, what: string) {
    const deadline = Date.now() + 5000;
    while (!condition()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  function watchWithEvents() {
    const changes: ConfigSnapshot[] = [];
    const errors: Error[] = [];
    const w = watchConfig({
      policyPath,
      directoryPath,
      debounceMs: 50,
      onChange: (snapshot) => changes.push(snapshot),
      onError: (err) => errors.push(err),
    });
    watcher = w;
    return { changes, errors, watcher: w };
  }
  const reasonOf = (w: ConfigWatcher) => w.current().policy.rules[0]!.reason;

  it('a good edit replaces the snapshot and calls onChange', async () => {
    const { changes, errors, watcher } = watchWithEvents();
    const before = watcher.current();
    expect(reasonOf(watcher)).toBe('first');

    writeFileSync(policyPath, policyWith('second'));
    await waitFor(() => changes.length > 0, 'onChange');
    expect(errors).toEqual([]);
    expect(reasonOf(watcher)).toBe('second');
    expect(watcher.current().policy.digest).not.toBe(before.policy.digest);
    expect(watcher.current()).toBe(changes.at(-1));
    // Identical content is not a change, however many events the write produced.
    expect(changes).toHaveLength(1);
  });

  it('a replace-by-rename (how editors save) is seen too', async () => {
    const { changes, watcher } = watchWithEvents();
    const tmp = join(dir, '.policy.yaml.swp');
    writeFileSync(tmp, policyWith('renamed'));
    renameSync(tmp, policyPath);
    await waitFor(() => changes.length === 1, 'onChange after rename');
    expect(reasonOf(watcher)).toBe('renamed');

    // ...and the watcher still works on the new file afterwards.
    writeFileSync(policyPath, policyWith('after rename'));
    await waitFor(() => changes.length === 2, 'onChange after a write to the new file');
    expect(reasonOf(watcher)).toBe('after rename');
  });

  it('a bad edit keeps the last good snapshot and calls onError', async () => {
    const { changes, errors, watcher } = watchWithEvents();
    const good = watcher.current();

    writeFileSync(policyPath, `${policyWith('x')}  - id: broken\n    when: 'acton.type == "x"'\n    outcome: approve\n    reason: x\n`);
    await waitFor(() => errors.length > 0, 'onError');
    expect(changes).toEqual([]);
    expect(errors[0]).toBeInstanceOf(ConfigError);
    expect(errors[0]!.message).toMatch(/policy\.yaml:8:11: rule broken: when: unknown variable "acton"/);
    expect(watcher.current()).toBe(good);

    // A good directory edit while the policy is still broken is rejected as a whole.
    const errorsSoFar = errors.length;
    writeFileSync(directoryPath, DIRECTORY.replace('Alice', 'Alice B'));
    await waitFor(() => errors.length > errorsSoFar, 'onError for the still-broken policy');
    expect(changes).toEqual([]);
    expect(watcher.current()).toBe(good);

    // Fixing the policy recovers, with both edits.
    writeFileSync(policyPath, policyWith('fixed'));
    await waitFor(() => changes.length > 0, 'onChange after the fix');
    expect(reasonOf(watcher)).toBe('fixed');
    expect(watcher.current().directory.person('alice')?.name).toBe('Alice B');
  });

  it('a bad file at start throws', () => {
    writeFileSync(policyPath, 'version: 1\nrules: {}\n');
    expect(() => watchConfig({ policyPath, directoryPath, onChange: () => {}, onError: () => {} })).toThrow(ConfigError);
  });

  it('close() stops watching', async () => {
    const { changes, errors, watcher } = watchWithEvents();
    watcher.close();
    writeFileSync(policyPath, policyWith('ignored'));
    await new Promise((r) => setTimeout(r, 200));
    expect(changes).toEqual([]);
    expect(errors).toEqual([]);
    expect(reasonOf(watcher)).toBe('first');
    expect(readFileSync(policyPath, 'utf8')).toContain('ignored');
  });
});

describe('validateAgainst', () => {
  it('warns about roles nobody (no person) holds, too few holders, and unknown people', () => {
    writeFileSync(
      policyPath,
      `version: 1
rules:
  - id: needs-security
    when: 'true'
    outcome: escalate
    reason: x
    requirement:
      approvers: [{ role: security }, { role: sre-lead, count: 2 }]
      expiresIn: 1h
      channels: { people: [alice, zed] }
  - id: final
    when: 'false'
    outcome: refuse
    reason: x
    override: { roles: [cto] }
defaults:
  noMatch: { override: { roles: [ciso] } }
`,
    );
    const { policy, directory } = loadConfigFiles({ policyPath, directoryPath });
    expect(validateAgainst(policy, directory)).toEqual([
      `${policyPath}:3: rule needs-security needs approvers with role "security", which nobody in the directory holds`,
      `${policyPath}:3: rule needs-security needs 2 distinct "sre-lead" approvers but only 1 people hold that role`,
      `${policyPath}:3: rule needs-security needs 3 distinct approvers but only 1 people hold any of its roles`,
      `${policyPath}:3: rule needs-security asks "zed", who is not a person in the directory`,
      `${policyPath}:11: rule final lets role "cto" override, but nobody in the directory holds it`,
      `${policyPath}: defaults.noMatch lets role "ciso" override, but nobody in the directory holds it`,
    ]);
  });

  it('is quiet when everything is covered', () => {
    const { policy, directory } = loadConfigFiles({ policyPath, directoryPath });
    expect(validateAgainst(policy, directory)).toEqual([]);
  });
});
