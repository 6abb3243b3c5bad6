import { z } from 'zod';
import { ChannelCatalog, IntentSchema } from '@countersign/contracts';
import type { Actor, ChannelDefinition, Intent, IntentInput } from '@countersign/contracts';
import { loadPolicy } from '../src/index.ts';
import type { CompiledPolicy } from '../src/index.ts';

/** A policy file from rule YAML snippets (each already indented as a list item under `rules:`). */
export function policyText(rules: string, defaults = ''): string {
  return `version: 1\nrules:\n${rules}${defaults ? `defaults:\n${defaults}` : ''}`;
}

/** A channel as far as policy files see it: a name and a list of places (identities unused). */
export function placesChannel(name: string): ChannelDefinition<string> {
  return { name, hints: z.array(z.string().min(1)), identity: z.string(), identityKey: (id) => ({ key: id, path: [], label: id }) };
}

/** The channels a service would install in these tests (their real definitions live in modules/). */
export const channels = new ChannelCatalog([placesChannel('slack'), placesChannel('teams')]);

export function policy(rules: string, defaults = ''): CompiledPolicy {
  return loadPolicy(policyText(rules, defaults), 'policy.yaml', { channels });
}

export function intent(overrides: Partial<IntentInput> = {}): Intent {
  return IntentSchema.parse({ action: { type: 'db.query' }, ...overrides });
}

export function agent(overrides: Partial<Actor> = {}): Actor {
  return { kind: 'agent', id: 'deploy-bot', roles: ['deployer'], owner: 'erin', ...overrides };
}

export function person(overrides: Partial<Actor> = {}): Actor {
  return { kind: 'person', id: 'alice', roles: ['sre-lead'], owner: null, ...overrides };
}

export const MONDAY_10AM = new Date('2026-01-05T10:00:00Z');
