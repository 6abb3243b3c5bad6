import { describe, expect, it } from 'vitest';
import { evaluate } from '../src/index.ts';
import { buildBindings } from '../src/bindings.ts';
import { guardTerms } from '../src/guard.ts';
import { candidateRules } from '../src/rule-index.ts';
import { agent, intent, MONDAY_10AM, policy } from './helpers.ts';

const now = MONDAY_10AM;

describe('guardTerms: which conditions carry a guard', () => {
  it('`path == "x"` in a conjunction, either side order', () => {
    expect(guardTerms('action.type == "db.query" && has(risk.class)')).toEqual([{ path: ['action', 'type'], literal: 'db.query' }]);
    expect(guardTerms('risk.class == "read" && "db.query" == action.type')).toEqual([
      { path: ['risk', 'class'], literal: 'read' },
      { path: ['action', 'type'], literal: 'db.query' },
    ]);
  });

  it('a bare equality is a conjunction of one; nested && is flattened', () => {
    expect(guardTerms('context.environment == "production"')).toEqual([{ path: ['context', 'environment'], literal: 'production' }]);
    expect(guardTerms('(has(risk.class) && (actor.id == "deploy-bot" && risk.class == "read")) && time.hour > 3')).toEqual([
      { path: ['actor', 'id'], literal: 'deploy-bot' },
      { path: ['risk', 'class'], literal: 'read' },
    ]);
    expect(guardTerms('onBehalfOf == "erin" && true')).toEqual([{ path: ['onBehalfOf'], literal: 'erin' }]);
  });

  it('no guard under ||, !, a ternary, or in a comprehension', () => {
    expect(guardTerms('action.type == "db.query" || has(risk.class)')).toEqual([]);
    expect(guardTerms('!(action.type == "db.query")')).toEqual([]);
    expect(guardTerms('!(action.type == "db.query") && risk.class == "read"')).toEqual([{ path: ['risk', 'class'], literal: 'read' }]);
    expect(guardTerms('has(risk.class) ? action.type == "db.query" : false')).toEqual([]);
    expect(guardTerms('(action.type == "a.b" || action.type == "a.c") && has(risk.class)')).toEqual([]);
    expect(guardTerms('["a.b"].exists(t, t == "a.b" && action.type == "a.b")')).toEqual([]);
  });

  it('only `==` between a plain path over a policy variable and a string literal', () => {
    expect(guardTerms('action.type != "db.query" && true')).toEqual([]);
    expect(guardTerms('action.type in ["db.query"]')).toEqual([]);
    expect(guardTerms('action.params.amount == 5')).toEqual([]);
    expect(guardTerms('action.type == context.environment')).toEqual([]);
    expect(guardTerms('action.type.lowerAscii() == "db.query"')).toEqual([]);
    expect(guardTerms('action["type"] == "db.query"')).toEqual([]);
    expect(guardTerms('has(action.type) == "db.query"')).toEqual([]);
    expect(guardTerms('action.type == b"db.query"')).toEqual([]);
    expect(guardTerms('"a" == "a"')).toEqual([]);
  });
});

describe('loadPolicy: one guard per rule, the most selective', () => {
  const rules = [0, 1, 2]
    .map((i) => `
  - id: r${i}
    when: 'action.type == "bench.slack" && action.resource == "res-${i}"'
    outcome: approve
    reason: r${i}
`)
    .join('');

  it('picks the term fewer rules share, leftmost on a tie', () => {
    const p = policy(rules + `
  - id: lone
    when: 'action.type == "db.query" && action.resource == "res-0"'
    outcome: approve
    reason: lone
  - id: none
    when: 'action.type.startsWith("db.")'
    outcome: approve
    reason: none
`);
    expect(p.rules.map((r) => r.guard)).toEqual([
      { path: ['action', 'resource'], literal: 'res-0' },
      { path: ['action', 'resource'], literal: 'res-1' },
      { path: ['action', 'resource'], literal: 'res-2' },
      { path: ['action', 'type'], literal: 'db.query' },
      undefined,
    ]);
  });

  it('evaluates only the unguarded rules and those whose literal is the field, in rule order', () => {
    const p = policy(`
  - id: any
    when: 'has(risk.class)'
    outcome: approve
    reason: any
` + rules);
    const bindings = (resource?: string) =>
      buildBindings(intent({ action: { type: 'bench.slack', ...(resource ? { resource } : {}) } }), agent(), now) as unknown as Record<string, unknown>;
    expect(candidateRules(p.index, bindings('res-1'))).toEqual([0, 2]);
    expect(candidateRules(p.index, bindings('res-9'))).toEqual([0]);
    // Missing field: `==` errors rather than being false, so every rule guarded on it runs.
    expect(candidateRules(p.index, bindings())).toEqual([0, 1, 2, 3]);
  });
});

describe('evaluate: a skipped rule is one CEL would have found false', () => {
  it('a guard that fails hides a later conjunct that would error', () => {
    const p = policy(`
  - id: typo
    when: 'action.params.missing == 1 && action.type == "payment.send"'
    outcome: approve
    reason: typo
`);
    for (const index of [true, false]) {
      expect(evaluate(p, { intent: intent({ action: { type: 'db.query' } }), actor: agent(), now }, { index }).reasons).toEqual(['no rule matched']);
      expect(evaluate(p, { intent: intent({ action: { type: 'payment.send' } }), actor: agent(), now }, { index }).reasons).toEqual([
        'rule typo could not be evaluated: field not found: missing',
      ]);
    }
  });

  it('a missing guarded field is evaluated in full: the error surfaces as a refusal', () => {
    const p = policy(`
  - id: prod
    when: 'context.environment == "production" && action.type == "db.query"'
    outcome: approve
    reason: prod
`);
    // Both terms are candidates for the guard; whichever is chosen, the verdicts agree.
    for (const index of [true, false]) {
      const v = evaluate(p, { intent: intent({ action: { type: 'db.query' } }), actor: agent(), now }, { index });
      expect(v.outcome).toBe('refuse');
      expect(v.reasons).toEqual(['rule prod could not be evaluated: field not found: environment']);
    }
  });

  it('an intent map with a `constructor` key is read like any other (it used to fail every rule reading it)', () => {
    const p = policy(`
  - id: amount
    when: 'has(action.params.amount) && action.type == "payment.send"'
    outcome: approve
    reason: amount
`);
    const weird = intent({ action: { type: 'payment.send', params: { constructor: 'x', amount: 1 } } });
    // An own `__proto__` key (JSON.parse makes one) cannot come through IntentSchema, but bindings take it too.
    const proto = { ...weird, action: { ...weird.action, params: JSON.parse('{"__proto__": null, "amount": 1}') as Record<string, unknown> } };
    for (const index of [true, false]) {
      expect(evaluate(p, { intent: weird, actor: agent(), now }, { index }).ruleIds).toEqual(['amount']);
      expect(evaluate(p, { intent: proto, actor: agent(), now }, { index }).ruleIds).toEqual(['amount']);
      const other = intent({ action: { type: 'db.query', params: { constructor: 'x', amount: 1 } } });
      expect(evaluate(p, { intent: other, actor: agent(), now }, { index }).reasons).toEqual(['no rule matched']);
    }
  });
});
