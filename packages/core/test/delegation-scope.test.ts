import { describe, expect, it } from 'vitest';
import { DomainError } from '@countersign/contracts';
import { inDelegationScope, parseDelegationScope, scopeBindings } from '../src/keys/delegation-scope.ts';
import { personBinding } from '../src/keys/principal-binding.ts';
import { testEngine } from './support/engine.ts';

describe('delegation scope', () => {
  const alice = { id: 'alice', name: 'Alice', email: 'alice@example.com', roles: ['sre-lead'] };
  const frank = { id: 'frank', email: 'frank@example.com', roles: ['finance'] };
  const bob = { id: 'bob', email: 'bob@example.com', roles: ['security'] };

  it('admits people named by id and holders of a named role, nobody else', () => {
    const scope = ['alice', 'role:finance'];
    expect(inDelegationScope(scope, alice)).toBe(true);
    expect(inDelegationScope(scope, frank)).toBe(true);
    expect(inDelegationScope(scope, bob)).toBe(false);
    // An id is not a role and a role is not an id.
    expect(inDelegationScope(['role:alice'], alice)).toBe(false);
    expect(inDelegationScope(['finance'], frank)).toBe(false);
    // An empty scope (a delegate key from before scopes) admits nobody.
    expect(inDelegationScope([], alice)).toBe(false);
  });

  it('a person named by id is the person the key was made for: the id given to someone else is outside the scope', () => {
    const directory = { person: (id: string) => (id === 'alice' ? alice : undefined) };
    const bindings = scopeBindings(['alice', 'role:finance'], directory);
    expect(bindings).toEqual([`alice=${personBinding(alice)}`]);
    expect(inDelegationScope(['alice'], alice, bindings)).toBe(true);
    const newcomer = { id: 'alice', email: 'alice.new@example.com', roles: ['sre-lead'] };
    expect(inDelegationScope(['alice'], newcomer, bindings)).toBe(false);
    // A role entry is about the role, whoever holds it.
    expect(inDelegationScope(['alice', 'role:sre-lead'], newcomer, bindings)).toBe(true);
    // Keys made before bindings: their entries count by id.
    expect(inDelegationScope(['alice'], newcomer, [])).toBe(true);
  });

  it('parses --for strictly', () => {
    expect(parseDelegationScope('alice, role:finance,alice')).toEqual(['alice', 'role:finance']);
    for (const bad of ['', 'alice,,bob', 'alice,', 'role:']) expect(() => parseDelegationScope(bad), bad).toThrow(DomainError);
  });

  it('a delegate key must name whom, people must exist, and a non-delegate key names nobody', async () => {
    const e = testEngine();
    e.directory.addPerson('alice');
    e.directory.addAgent('bot', 'alice');
    await expect(e.keys.create('bot', { canDelegate: true })).rejects.toThrow(/must name whom/);
    await expect(e.keys.create('bot', { canDelegate: true, delegateFor: ['alice', 'mallory'] })).rejects.toThrow(/mallory/);
    await expect(e.keys.create('bot', { delegateFor: ['alice'] })).rejects.toThrow(/--delegate/);
    const { key } = await e.keys.create('bot', { canDelegate: true, delegateFor: ['alice', 'role:finance'] });
    expect(key.delegateFor).toEqual(['alice', 'role:finance']);
    const created = e.store.artifacts.filter((a) => a.kind === 'key.created').at(-1);
    expect(JSON.parse(created!.canonical)).toMatchObject({ event: { kind: 'key.created', delegateFor: ['alice', 'role:finance'] } });
  });
});
