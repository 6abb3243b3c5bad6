import { describe, expect, it } from 'vitest';
import { ConfigError, loadPolicy, parseDuration } from '../src/index.ts';
import { policyText } from './helpers.ts';

function loadError(text: string): ConfigError {
  try {
    loadPolicy(text, 'policy.yaml');
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error('expected the policy to be rejected');
}

const GOOD_RULE = `
  - id: reads
    when: 'risk.class == "read"'
    outcome: approve
    reason: reads
`;

describe('loadPolicy: CEL compile errors name the rule and the line', () => {
  it('syntax error', () => {
    const err = loadError(policyText(GOOD_RULE + `
  - id: broken-syntax
    when: 'action.type == '
    outcome: approve
    reason: x
`));
    expect(err.line).toBe(10);
    expect(err.column).toBe(11);
    expect(err.reason).toMatch(/^rule broken-syntax: when: syntax error: .* \(at character \d+ of the expression\)$/);
    expect(err.message).toMatch(/^policy\.yaml:10:11: rule broken-syntax: /);
  });

  it('unknown variable', () => {
    const err = loadError(policyText(GOOD_RULE + `
  - id: typo
    description: a typo in a variable name
    when: >-
      action.type == "x"
      && acton.resource == "y"
    outcome: approve
    reason: x
`));
    expect(err.line).toBe(11);
    expect(err.reason).toMatch(/^rule typo: when: unknown variable "acton" \(known: action, context/);
  });

  it('variables bound by macros are known inside them only', () => {
    expect(() => loadPolicy(policyText(`
  - id: macro
    when: 'actor.roles.exists(r, r.startsWith("sre")) && action.params.all(k, k != "x")'
    outcome: approve
    reason: x
`), 'policy.yaml')).not.toThrow();
    expect(loadError(policyText(`
  - id: leak
    when: 'actor.roles.exists(r, r == "a") && r == "b"'
    outcome: approve
    reason: x
`)).reason).toMatch(/unknown variable "r"/);
  });

  it('unknown function', () => {
    expect(loadError(policyText(`
  - id: fn
    when: 'isWeekend(now)'
    outcome: approve
    reason: x
`)).reason).toMatch(/^rule fn: when: unknown function "isWeekend"/);
  });
});

describe('loadPolicy: structure', () => {
  it('escalate without requirement', () => {
    const err = loadError(policyText(`
  - id: esc
    when: 'true'
    outcome: escalate
    reason: x
`));
    expect(err.line).toBe(6);
    expect(err.reason).toMatch(/rules\[0\]\.outcome: rule "esc" escalates but has no requirement/);
  });

  it('requirement on a non-escalate rule, override on a non-refuse rule', () => {
    expect(loadError(policyText(`
  - id: a
    when: 'true'
    outcome: approve
    reason: x
    requirement: { approvers: [{ role: x }], expiresIn: 1h }
`)).reason).toMatch(/requirement is only allowed when outcome is escalate/);
    expect(loadError(policyText(`
  - id: a
    when: 'true'
    outcome: escalate
    reason: x
    requirement: { approvers: [{ role: x }], expiresIn: 1h }
    override: { roles: [cto] }
`)).reason).toMatch(/override is only allowed when outcome is refuse/);
  });

  it('duplicate rule ids', () => {
    const err = loadError(policyText(GOOD_RULE + GOOD_RULE));
    expect(err.line).toBe(9);
    expect(err.reason).toBe('duplicate rule id "reads"');
  });

  it('bad durations and out-of-range expiry', () => {
    const bad = (expiresIn: string) =>
      loadError(policyText(`
  - id: a
    when: 'true'
    outcome: escalate
    reason: x
    requirement:
      approvers: [{ role: x }]
      expiresIn: ${expiresIn}
`));
    expect(bad('30 minutes').reason).toMatch(/rules\[0\]\.requirement\.expiresIn: "30 minutes" is not a duration/);
    expect(bad('30 minutes').line).toBe(10);
    expect(bad('5s').reason).toMatch(/between 10s and 30d/);
    expect(bad('31d').reason).toMatch(/between 10s and 30d/);
    expect(bad('1800').reason).toMatch(/expected string/);
  });

  it('misspelt keys are rejected where they are', () => {
    const err = loadError(policyText(`
  - id: a
    when: 'true'
    outcome: escalate
    reason: x
    requirement:
      approvers: [{ role: x }]
      expiresIn: 1h
      ownerMayAprove: true
`));
    expect([err.line, err.column]).toEqual([11, 7]);
    expect(err.reason).toMatch(/requirement\.ownerMayAprove: unknown key/);
  });

  it('a role listed twice in one requirement', () => {
    expect(loadError(policyText(`
  - id: a
    when: 'true'
    outcome: escalate
    reason: x
    requirement: { approvers: [{ role: x }, { role: x, count: 2 }], expiresIn: 1h }
`)).reason).toMatch(/role "x" is listed twice/);
  });

  it('bad rule ids and outcomes', () => {
    expect(loadError(policyText(GOOD_RULE.replace('id: reads', 'id: Reads_1'))).reason).toMatch(/rule ids are lowercase/);
    expect(loadError(policyText(GOOD_RULE.replace('outcome: approve', 'outcome: allow'))).reason).toMatch(/rules\[0\]\.outcome/);
    expect(loadError('version: 2\nrules: []\n').reason).toMatch(/^version:/);
  });

  it('records where each rule starts and what it says', () => {
    const p = loadPolicy(policyText(GOOD_RULE + `
  - id: refuse-x
    when: 'action.type == "x.y"'
    outcome: refuse
    reason: no
    override: { roles: [cto] }
`), 'policy.yaml');
    expect(p.rules.map((r) => [r.id, r.line, r.outcome, [...r.overrideRoles]])).toEqual([
      ['reads', 4, 'approve', []],
      ['refuse-x', 9, 'refuse', ['cto']],
    ]);
    expect(p.fileName).toBe('policy.yaml');
    expect(p.noMatchOverrideRoles).toEqual([]);
  });
});

describe('parseDuration', () => {
  it('reads s/m/h/d and compounds, rejects the rest', () => {
    expect(parseDuration('30s')).toBe(30);
    expect(parseDuration('10m')).toBe(600);
    expect(parseDuration('4h')).toBe(14_400);
    expect(parseDuration('2d')).toBe(172_800);
    expect(parseDuration('1h30m')).toBe(5400);
    expect(parseDuration('30')).toBeUndefined();
    expect(parseDuration('1.5h')).toBeUndefined();
    expect(parseDuration('')).toBeUndefined();
    expect(parseDuration('m')).toBeUndefined();
  });
});
