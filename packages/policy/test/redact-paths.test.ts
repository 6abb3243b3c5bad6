import { describe, expect, it } from 'vitest';
import { loadPolicy } from '../src/index.ts';

const policy = (redact: string) => `version: 1
rules:
  - id: pay
    when: 'action.type == "payment.send"'
    outcome: escalate
    reason: r
    requirement:
      approvers: [{ role: finance-approver, count: 1 }]
      expiresIn: 1h
      redact: [${redact}]
`;

describe('redact paths', () => {
  it('accepts what cards can hide', () => {
    expect(() => loadPolicy(policy('params.iban, context.account, authority.clientInstruction, justification'), 'p.yaml')).not.toThrow();
  });
  it('refuses paths that would silently hide nothing, naming the line', () => {
    expect(() => loadPolicy(policy('iban'), 'p.yaml')).toThrow(/p\.yaml:10:\d+: .*redact paths/);
    expect(() => loadPolicy(policy('action.summary'), 'p.yaml')).toThrow(/redact paths/);
  });
});
