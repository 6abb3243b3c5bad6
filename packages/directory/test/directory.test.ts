import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ChannelCatalog, type ChannelDefinition } from '@countersign/contracts';
import { ConfigError, loadDirectory } from '../src/index.ts';

// Two made-up channels: what a person may carry comes from the installed channels' definitions.
const chat: ChannelDefinition<{ userId: string }> = {
  name: 'chat',
  hints: z.array(z.string()),
  identity: z.strictObject({ userId: z.string().regex(/^U[A-Z0-9]+$/) }),
  identityKey: (i) => ({ key: i.userId, path: ['userId'], label: `chat user id ${i.userId}` }),
};
const meet: ChannelDefinition<{ objectId: string }> = {
  name: 'meet',
  hints: z.array(z.string()),
  identity: z.strictObject({ objectId: z.uuid() }),
  // Ids are uuids, sent in either case.
  identityKey: (i) => ({ key: i.objectId.toLowerCase(), path: ['objectId'], label: `meet object id ${i.objectId}` }),
};
const channels = new ChannelCatalog([chat, meet]);

const GOOD = `version: 1
people:
  - id: alice
    name: Alice
    email: Alice@Example.com
    roles: [sre-lead, on-call]
    chat: { userId: U0ALICE01 }
    meet: { objectId: 6F1C2A3E-1B2D-4C5E-8F90-0A1B2C3D4E01 }
  - id: bob
    name: Bob
    email: bob@example.com
    roles: [security]
agents:
  - id: deploy-bot
    name: Deploy bot
    owner: alice
    roles: [deployer]
`;

function expectConfigError(text: string, line: number, column: number, reason: RegExp): ConfigError {
  let caught: unknown;
  try {
    loadDirectory(text, 'dir.yaml', { channels });
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(ConfigError);
  const err = caught as ConfigError;
  expect({ file: err.file, line: err.line, column: err.column }).toEqual({ file: 'dir.yaml', line, column });
  expect(err.reason).toMatch(reason);
  expect(err.message).toBe(`dir.yaml:${line}:${column}: ${err.reason}`);
  return err;
}

describe('loadDirectory', () => {
  it('loads people and agents and answers lookups', () => {
    const dir = loadDirectory(GOOD, 'dir.yaml', { channels });
    expect(dir.digest).toBe(createHash('sha256').update(GOOD).digest('hex'));
    expect(dir.person('alice')?.roles).toEqual(['sre-lead', 'on-call']);
    expect(dir.person('deploy-bot')).toBeUndefined();
    expect(dir.agent('deploy-bot')?.owner).toBe('alice');
    expect(dir.principal('bob')).toMatchObject({ kind: 'person', id: 'bob' });
    expect(dir.principal('deploy-bot')).toMatchObject({ kind: 'agent', id: 'deploy-bot' });
    expect(dir.principal('nobody')).toBeUndefined();
    expect(dir.actorOf('deploy-bot')).toEqual({ kind: 'agent', id: 'deploy-bot', roles: ['deployer'], owner: 'alice' });
    expect(dir.actorOf('bob')).toEqual({ kind: 'person', id: 'bob', roles: ['security'], owner: null });
    expect(dir.actorOf('nobody')).toBeUndefined();
    expect(dir.personByIdentity('chat', 'U0ALICE01')?.id).toBe('alice');
    expect(dir.personByIdentity('chat', 'U0NOBODY1')).toBeUndefined();
    expect(dir.personByIdentity('meet', '6f1c2a3e-1b2d-4c5e-8f90-0a1b2c3d4e01')?.id).toBe('alice');
    expect(dir.personByIdentity('pager', 'U0ALICE01')).toBeUndefined();
    expect(dir.peopleByEmail('ALICE@example.COM').map((p) => p.id)).toEqual(['alice']);
    expect(dir.peopleByEmail('carol@example.com')).toEqual([]);
    expect(dir.people().map((p) => p.id)).toEqual(['alice', 'bob']);
    expect(dir.agents().map((a) => a.id)).toEqual(['deploy-bot']);
  });

  it('actorOf returns a copy: callers cannot change the directory', () => {
    const dir = loadDirectory(GOOD, 'dir.yaml', { channels });
    dir.actorOf('alice')!.roles.push('cto');
    expect(dir.actorOf('alice')!.roles).toEqual(['sre-lead', 'on-call']);
  });

  it('a bad email names its line and column', () => {
    expectConfigError(GOOD.replace('bob@example.com', 'not-an-email'), 11, 12, /people\[1\]\.email/);
  });

  it("countersign's own deciders, policy and system, are no one's id", () => {
    expectConfigError(GOOD.replace('id: bob', 'id: system'), 9, 9, /people\[1\]\.id.*"policy" and "system" are countersign's own/);
    expectConfigError(GOOD.replace('id: deploy-bot', 'id: policy'), 14, 9, /agents\[0\]\.id.*countersign's own/);
  });

  it('a duplicate id across people and agents is refused at the second one', () => {
    expectConfigError(GOOD.replace('id: deploy-bot', 'id: bob'), 14, 9, /duplicate id "bob"/);
  });

  it('an agent whose owner is not a person is refused', () => {
    expectConfigError(GOOD.replace('owner: alice', 'owner: deploy-bot'), 16, 12, /owner "deploy-bot".*not a person/);
    expectConfigError(GOOD.replace('owner: alice', 'owner: zed'), 16, 12, /owner "zed"/);
  });

  it('emails are unique case-insensitively', () => {
    expectConfigError(GOOD.replace('bob@example.com', 'alice@EXAMPLE.com'), 11, 12, /email .* also used by person "alice"/);
  });

  it("channel identities are unique, by each channel's own key", () => {
    const withChat = GOOD.replace('roles: [security]', 'roles: [security]\n    chat: { userId: U0ALICE01 }');
    expectConfigError(withChat, 13, 21, /chat user id U0ALICE01 is also used by person "alice"/);
    const withMeet = GOOD.replace('roles: [security]', 'roles: [security]\n    meet: { objectId: 6f1c2a3e-1b2d-4c5e-8f90-0a1b2c3d4e01 }');
    expectConfigError(withMeet, 13, 23, /meet object id/);
  });

  it("an identity is checked by its channel's schema", () => {
    expectConfigError(GOOD.replace('userId: U0ALICE01', 'userId: alice'), 7, 21, /people\[0\]\.chat\.userId/);
  });

  it('an identity for a channel this process does not have is an unknown key (fail closed)', () => {
    expectConfigError(GOOD.replace('roles: [security]', 'roles: [security]\n    pager: { id: P123 }'), 13, 5, /people\[1\]\.pager: unknown key/);
    let caught: unknown;
    try {
      loadDirectory(GOOD, 'dir.yaml');
    } catch (err) {
      caught = err;
    }
    expect(caught).toMatchObject({ line: 7, column: 5, reason: expect.stringMatching(/people\[0\]\.chat: unknown key/) });
  });

  it('YAML syntax errors carry a position', () => {
    const err = expectConfigError('version: 1\npeople:\n  - id: [unclosed\n', 4, 1, /^YAML: /);
    expect(err.reason.length).toBeGreaterThan(6);
  });

  it('duplicate YAML keys are errors, not last-one-wins', () => {
    expectConfigError('version: 1\nversion: 1\n', 2, 1, /YAML: .*unique/i);
  });

  it('unknown keys point at the key itself', () => {
    expectConfigError(GOOD.replace('    roles: [security]', '    roles: [security]\n    role: admin'), 13, 5, /people\[1\]\.role: unknown key/);
  });

  it('a missing required field points at its object', () => {
    expectConfigError(GOOD.replace('    name: Bob\n', ''), 9, 5, /people\[1\]\.name/);
  });

  it('an empty file is an error at 1:1', () => {
    expectConfigError('', 1, 1, /expected object/);
  });
});
