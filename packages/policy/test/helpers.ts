import { IntentSchema } from '@countersign/contracts';
import type { Actor, Intent, IntentInput } from '@countersign/contracts';
import { loadPolicy } from '../src/index.ts';
import type { CompiledPolicy } from '../src/index.ts';

/** A policy file from rule YAML snippets (each already indented as a list item under `rules:`). */
export function policyText(rules: string, defaults = ''): string {
  return `version: 1\nrules:\n${rules}${defaults ? `defaults:\n${defaults}` : ''}`;
}

export function policy(rules: string, defaults = ''): CompiledPolicy {
  return loadPolicy(policyText(rules, defaults), 'policy.yaml');
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
