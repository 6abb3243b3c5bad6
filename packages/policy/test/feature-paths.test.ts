import { describe, expect, it } from 'vitest';
import { RequirementSchema } from '@countersign/contracts';
import { combineRequirements, loadPolicy } from '../src/index.ts';

const policy = (feature: string) => `version: 1
rules:
  - id: pay
    when: 'action.type == "payment.send"'
    outcome: escalate
    reason: r
    requirement:
      approvers: [{ role: finance-approver, count: 1 }]
      expiresIn: 1h
      feature: [${feature}]
`;

describe('featured card fields', () => {
  it('keeps a rule\'s featured params in its requirement, in order', () => {
    const loaded = loadPolicy(policy('params.amount, params.payee, params.bank.iban'), 'p.yaml');
    expect(loaded.rules[0]?.requirement?.feature).toEqual(['params.amount', 'params.payee', 'params.bank.iban']);
  });

  it('refuses anything but params paths, naming the line', () => {
    expect(() => loadPolicy(policy('amount'), 'p.yaml')).toThrow(/p\.yaml:10:\d+: .*feature paths/);
    expect(() => loadPolicy(policy('justification'), 'p.yaml')).toThrow(/feature paths/);
  });

  it('unions featured fields when several rules hold one action', () => {
    const a = RequirementSchema.parse({ groups: [{ role: 'finance', count: 1 }], expiresInSeconds: 600, feature: ['params.amount', 'params.payee'] });
    const b = RequirementSchema.parse({ groups: [{ role: 'security', count: 1 }], expiresInSeconds: 600, feature: ['params.iban', 'params.amount'] });
    expect(combineRequirements([a, b]).feature).toEqual(['params.amount', 'params.payee', 'params.iban']);
  });
});
