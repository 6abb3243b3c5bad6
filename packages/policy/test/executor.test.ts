import { describe, expect, it } from 'vitest';
import { ConfigError, evaluate, executorDestinationProblems, loadPolicy } from '../src/index.ts';
import { agent, intent, MONDAY_10AM, policy, policyText } from './helpers.ts';

const RULE = (executor: string, extra = '') => `
  - id: prod-delete
    when: 'action.type == "environment.delete"'
    outcome: escalate
    reason: needs people
    requirement: { approvers: [{ role: sre-lead }], expiresIn: 1h }
    executor:
${executor}
${extra}`;

const GOOD = `      url: https://ops.example.com/environments/{{action.resource}}
      method: DELETE
      headers: { authorization: "Bearer {{secret.OPS_TOKEN}}", x-reason: "{{justification}}" }
      body: { environment: "{{action.resource}}", amount: "{{action.params.amount}}", note: "by countersign {{actionId}}" }`;

function loadError(text: string): ConfigError {
  try {
    loadPolicy(text, 'policy.yaml');
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error('expected the policy to be rejected');
}

describe('executor in the policy file', () => {
  it('is carried on the requirement of the verdict', () => {
    const p = policy(RULE(GOOD));
    const verdict = evaluate(p, { intent: intent({ action: { type: 'environment.delete', resource: 'env/x' } }), actor: agent(), now: MONDAY_10AM });
    expect(verdict.outcome).toBe('escalate');
    expect(verdict.requirement?.executor).toEqual({
      url: 'https://ops.example.com/environments/{{action.resource}}',
      method: 'DELETE',
      headers: { authorization: 'Bearer {{secret.OPS_TOKEN}}', 'x-reason': '{{justification}}' },
      body: { environment: '{{action.resource}}', amount: '{{action.params.amount}}', note: 'by countersign {{actionId}}' },
    });
  });

  it('defaults to POST without headers', () => {
    const p = policy(RULE('      url: https://ops.example.com/run'));
    expect(p.rules[0]!.requirement?.executor).toEqual({ url: 'https://ops.example.com/run', method: 'POST', headers: {} });
  });

  it('is refused on rules that do not escalate', () => {
    const err = loadError(policyText(`
  - id: auto
    when: 'true'
    outcome: approve
    reason: fine
    executor: { url: https://ops.example.com/run }
`));
    expect(err.reason).toMatch(/executor is only allowed when outcome is escalate/);
  });

  it.each([
    ['a templated host', '      url: https://{{action.resource}}.example.com/x', /scheme and host must be written out/],
    ['a relative url', '      url: /environments/x', /absolute http\(s\) URL/],
    ['an unknown placeholder root', '      url: https://ops.example.com/{{actor.id}}', /unknown placeholder \{\{actor\.id\}\}/],
    ['a malformed placeholder', '      url: https://ops.example.com/{{ action.resource }', /malformed placeholder/],
    ['a literal credential', '      url: https://ops.example.com/x\n      headers: { Authorization: "Bearer abc123" }', /carries a credential/],
    ['a secret outside headers', '      url: https://ops.example.com/x\n      body: { token: "{{secret.OPS_TOKEN}}" }', /secrets may be used in header values only/],
    ['a reserved header', '      url: https://ops.example.com/x\n      headers: { Idempotency-Key: "x" }', /set by countersign/],
    ['credentials in the url', '      url: https://user:pw@ops.example.com/x', /must not carry credentials/],
    ['a GET executor', '      url: https://ops.example.com/x\n      method: GET', /executor\.method/],
  ])('%s is a load error naming the rule and line', (_name, executor, message) => {
    const err = loadError(policyText(RULE(executor)));
    expect(err.reason).toMatch(message);
    expect(err.line).toBeGreaterThanOrEqual(8);
  });

  it('matching rules with different executors refuse (which one was approved?)', () => {
    const p = policy(RULE(GOOD) + `
  - id: also-delete
    when: 'action.type == "environment.delete"'
    outcome: escalate
    reason: also
    requirement: { approvers: [{ role: security }], expiresIn: 1h }
    executor: { url: https://other.example.com/run }
`);
    const verdict = evaluate(p, { intent: intent({ action: { type: 'environment.delete' } }), actor: agent(), now: MONDAY_10AM });
    expect(verdict.outcome).toBe('refuse');
    expect(verdict.reasons[0]).toMatch(/different executors \(prod-delete, also-delete\)/);
  });

  it('a rule without executor combines with one that has it', () => {
    const p = policy(RULE(GOOD) + `
  - id: security-too
    when: 'action.type == "environment.delete"'
    outcome: escalate
    reason: also
    requirement: { approvers: [{ role: security }], expiresIn: 1h }
`);
    const verdict = evaluate(p, { intent: intent({ action: { type: 'environment.delete' } }), actor: agent(), now: MONDAY_10AM });
    expect(verdict.outcome).toBe('escalate');
    expect(verdict.requirement?.executor?.url).toBe('https://ops.example.com/environments/{{action.resource}}');
    expect(verdict.requirement?.groups).toHaveLength(2);
  });

  it('destinations are checked against an allow-list by whoever knows it', () => {
    const p = policy(RULE(GOOD));
    expect(executorDestinationProblems(p, (url) => url.startsWith('https://ops.example.com/'))).toEqual([]);
    expect(executorDestinationProblems(p, (url) => url.startsWith('https://ops.example.com/environments/prod'))).toEqual([
      'policy.yaml:4: rule prod-delete: executor destination https://ops.example.com is not an allowed destination',
    ]);
  });
});
