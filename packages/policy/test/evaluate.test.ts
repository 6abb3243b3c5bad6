import { createHash } from 'node:crypto';
import { RequirementSchema } from '@countersign/contracts';
import { describe, expect, it } from 'vitest';
import { evaluate, loadPolicy } from '../src/index.ts';
import { agent, intent, MONDAY_10AM, person, policy, policyText } from './helpers.ts';

const APPROVE_READS = `
  - id: reads
    when: 'has(risk.class) && risk.class == "read"'
    outcome: approve
    reason: reads are fine
`;
const ESCALATE_PROD_DELETE = `
  - id: prod-delete
    when: 'action.type == "environment.delete" && context.environment == "production"'
    outcome: escalate
    reason: production deletion needs two approvers
    requirement:
      approvers: [{ role: sre-lead, count: 1 }, { role: security, count: 1 }]
      expiresIn: 30m
      channels: { slack: ["#prod"], reminders: [10m], tiers: [{ after: 15m, slack: ["#secondary"] }] }
`;
const REFUSE_PII = `
  - id: pii-export
    when: 'action.type == "data.export" && has(context.attributes.pii) && context.attributes.pii == true'
    outcome: refuse
    reason: no PII exports
    override: { roles: [cto, dpo] }
`;

const now = MONDAY_10AM;

describe('evaluate: outcomes', () => {
  const p = policy(APPROVE_READS + ESCALATE_PROD_DELETE + REFUSE_PII);

  it('approves what an approve rule matches, with the policy digest', () => {
    const v = evaluate(p, { intent: intent({ risk: { class: 'read' } }), actor: agent(), now });
    expect(v).toEqual({ outcome: 'approve', ruleIds: ['reads'], reasons: ['reads are fine'], policyDigest: p.digest });
    expect(p.digest).toBe(createHash('sha256').update(policyText(APPROVE_READS + ESCALATE_PROD_DELETE + REFUSE_PII)).digest('hex'));
  });

  it('escalates with a requirement that satisfies the contract', () => {
    const v = evaluate(p, {
      intent: intent({ action: { type: 'environment.delete' }, context: { environment: 'production' } }),
      actor: agent(),
      now,
    });
    expect(v.outcome).toBe('escalate');
    expect(v.ruleIds).toEqual(['prod-delete']);
    expect(v.overrideRoles).toBeUndefined();
    expect(RequirementSchema.parse(v.requirement)).toEqual(v.requirement);
    expect(v.requirement).toEqual({
      groups: [
        { role: 'sre-lead', count: 1 },
        { role: 'security', count: 1 },
      ],
      expiresInSeconds: 1800,
      ownerMayApprove: false,
      denyEndsRequest: true,
      approvalReasonRequired: false,
      redact: [],
      feature: [],
      channels: { slack: ['#prod'], teams: [], people: [], reminders: [600], tiers: [{ afterSeconds: 900, slack: ['#secondary'], teams: [], people: [] }] },
    });
  });

  it('refuses with the override roles of the refusing rule', () => {
    const v = evaluate(p, { intent: intent({ action: { type: 'data.export' }, context: { attributes: { pii: true } } }), actor: agent(), now });
    expect(v).toMatchObject({ outcome: 'refuse', ruleIds: ['pii-export'], reasons: ['no PII exports'], overrideRoles: ['cto', 'dpo'] });
    expect(v.requirement).toBeUndefined();
  });

  it('refuses when no rule matches, with the default override roles', () => {
    const v = evaluate(p, { intent: intent({ action: { type: 'court.file' } }), actor: agent(), now });
    expect(v).toEqual({ outcome: 'refuse', ruleIds: [], reasons: ['no rule matched'], policyDigest: p.digest, overrideRoles: [] });

    const withDefault = policy(APPROVE_READS, '  noMatch: { override: { roles: [cto] } }\n');
    expect(evaluate(withDefault, { intent: intent(), actor: agent(), now }).overrideRoles).toEqual(['cto']);
  });

  it('an empty policy refuses everything', () => {
    const empty = loadPolicy('version: 1\nrules: []\n', 'empty.yaml');
    expect(evaluate(empty, { intent: intent({ risk: { class: 'read' } }), actor: agent(), now }).outcome).toBe('refuse');
  });
});

describe('evaluate: precedence refuse > escalate > approve', () => {
  const p = policy(APPROVE_READS + ESCALATE_PROD_DELETE + REFUSE_PII + `
  - id: any-export-escalates
    when: 'action.type == "data.export"'
    outcome: escalate
    reason: exports are reviewed
    requirement: { approvers: [{ role: security }], expiresIn: 1h }
`);

  it('escalate beats approve', () => {
    const v = evaluate(p, { intent: intent({ action: { type: 'data.export' }, risk: { class: 'read' } }), actor: agent(), now });
    expect(v.outcome).toBe('escalate');
    expect(v.ruleIds).toEqual(['any-export-escalates']);
    expect(v.requirement?.groups).toEqual([{ role: 'security', count: 1 }]);
  });

  it('refuse beats escalate and approve, and lists only the refusing rules', () => {
    const v = evaluate(p, {
      intent: intent({ action: { type: 'data.export' }, risk: { class: 'read' }, context: { attributes: { pii: true } } }),
      actor: agent(),
      now,
    });
    expect(v.outcome).toBe('refuse');
    expect(v.ruleIds).toEqual(['pii-export']);
    expect(v.reasons).toEqual(['no PII exports']);
  });
});

describe('evaluate: a refusal keeps the requirement of the escalate rules that also matched', () => {
  // An override lifts the refusal, not what the other rules ask: the verdict carries their
  // combined requirement so the overridden action goes on to escalation with it.
  const p = policy(ESCALATE_PROD_DELETE + `
  - id: freeze
    when: 'action.type == "environment.delete"'
    outcome: refuse
    reason: change freeze
    override: { roles: [cto] }
  - id: deletes-need-ops
    when: 'action.type == "environment.delete"'
    outcome: escalate
    reason: ops looks at every deletion
    requirement: { approvers: [{ role: ops, count: 1 }], expiresIn: 1h }
    executor: { url: https://ops.example.com/delete }
`);
  const prodDelete = intent({ action: { type: 'environment.delete' }, context: { environment: 'production' } });

  it('refuses, lists only the refusing rules, and keeps the combined requirement (dual control, executor)', () => {
    const v = evaluate(p, { intent: prodDelete, actor: agent(), now });
    expect(v).toMatchObject({ outcome: 'refuse', ruleIds: ['freeze'], reasons: ['change freeze'], overrideRoles: ['cto'] });
    expect(v.requirement).toBeUndefined();
    expect(v.requirementAfterOverride?.groups).toEqual([
      { role: 'sre-lead', count: 1 },
      { role: 'security', count: 1 },
      { role: 'ops', count: 1 },
    ]);
    expect(v.requirementAfterOverride?.expiresInSeconds).toBe(1800);
    expect(v.requirementAfterOverride?.executor).toEqual({ url: 'https://ops.example.com/delete', method: 'POST', headers: {} });
    expect(RequirementSchema.parse(v.requirementAfterOverride)).toEqual(v.requirementAfterOverride);
  });

  it('carries what matched: one escalate rule alone, or none at all', () => {
    const staging = evaluate(p, { intent: intent({ action: { type: 'environment.delete' }, context: { environment: 'staging' } }), actor: agent(), now });
    expect(staging).toMatchObject({ outcome: 'refuse', ruleIds: ['freeze'] });
    expect(staging.requirementAfterOverride?.groups).toEqual([{ role: 'ops', count: 1 }]);
    const pii = evaluate(policy(REFUSE_PII), { intent: intent({ action: { type: 'data.export' }, context: { attributes: { pii: true } } }), actor: agent(), now });
    expect(pii.outcome).toBe('refuse');
    expect(pii).not.toHaveProperty('requirementAfterOverride');
  });

  it('escalate rules naming different executors make the refusal final: nothing to escalate to', () => {
    const conflicting = policy(`
  - id: freeze
    when: 'true'
    outcome: refuse
    reason: change freeze
    override: { roles: [cto] }
  - id: a
    when: 'true'
    outcome: escalate
    reason: a
    requirement: { approvers: [{ role: ops }], expiresIn: 1h }
    executor: { url: https://a.example.com/run }
  - id: b
    when: 'true'
    outcome: escalate
    reason: b
    requirement: { approvers: [{ role: ops }], expiresIn: 1h }
    executor: { url: https://b.example.com/run }
`);
    const v = evaluate(conflicting, { intent: prodDelete, actor: agent(), now });
    expect(v).toMatchObject({ outcome: 'refuse', ruleIds: ['freeze', 'a', 'b'], overrideRoles: [] });
    expect(v).not.toHaveProperty('requirementAfterOverride');
  });
});

describe('evaluate: fail closed', () => {
  it('a rule that errors at runtime is a refusal without override, even if others approve', () => {
    const p = policy(APPROVE_READS + `
  - id: big-payments
    when: 'action.type == "payment.send" && action.params.amount > 10000'
    outcome: escalate
    reason: big
    requirement: { approvers: [{ role: finance }], expiresIn: 1h }
`);
    const v = evaluate(p, { intent: intent({ action: { type: 'payment.send', params: { amount: '20000' } }, risk: { class: 'read' } }), actor: agent(), now });
    expect(v.outcome).toBe('refuse');
    expect(v.ruleIds).toEqual(['big-payments']);
    expect(v.reasons[0]).toMatch(/^rule big-payments could not be evaluated: .*overload/);
    expect(v.overrideRoles).toEqual([]);

    const missing = evaluate(p, { intent: intent({ action: { type: 'payment.send' } }), actor: agent(), now });
    expect(missing.reasons).toEqual(['rule big-payments could not be evaluated: field not found: amount']);
  });

  it('a rule that returns a non-boolean is a refusal', () => {
    const p = policy(`
  - id: oops
    when: 'action.type'
    outcome: approve
    reason: never
`);
    const v = evaluate(p, { intent: intent(), actor: agent(), now });
    expect(v).toMatchObject({ outcome: 'refuse', ruleIds: ['oops'], overrideRoles: [] });
    expect(v.reasons[0]).toBe('rule oops could not be evaluated: expression returned a string, not a boolean');
  });

  it('an erroring rule removes override roles from a refusal it joins', () => {
    const p = policy(REFUSE_PII + `
  - id: broken
    when: 'context.attributes.missing == 1'
    outcome: approve
    reason: x
`);
    const v = evaluate(p, { intent: intent({ action: { type: 'data.export' }, context: { attributes: { pii: true } } }), actor: agent(), now });
    expect(v.ruleIds).toEqual(['pii-export', 'broken']);
    expect(v.overrideRoles).toEqual([]);
  });
});

describe('evaluate: CEL variables', () => {
  it('has() is false for absent optional fields and true for present ones', () => {
    const p = policy(`
  - id: needs-ticket
    when: 'has(authority.changeTicket) && !has(context.matter) && has(context.attributes.team) && onBehalfOf == "" && justification == ""'
    outcome: approve
    reason: ticketed
`);
    const ok = intent({ authority: { changeTicket: 'CHG-1' }, context: { attributes: { team: 'sre' } } });
    expect(evaluate(p, { intent: ok, actor: agent(), now }).outcome).toBe('approve');
    const noTicket = intent({ context: { attributes: { team: 'sre' } } });
    expect(evaluate(p, { intent: noTicket, actor: agent(), now })).toMatchObject({ outcome: 'refuse', reasons: ['no rule matched'] });
    const withMatter = intent({ authority: { changeTicket: 'CHG-1' }, context: { matter: 'M-1', attributes: { team: 'sre' } } });
    expect(evaluate(p, { intent: withMatter, actor: agent(), now }).reasons).toEqual(['no rule matched']);
  });

  it('exposes onBehalfOf, justification and the actor', () => {
    const p = policy(`
  - id: delegated
    when: 'onBehalfOf == "erin" && justification.contains("hotfix") && actor.kind == "agent" && actor.owner == "erin" && "deployer" in actor.roles'
    outcome: approve
    reason: delegated
  - id: people-have-no-owner
    when: 'actor.kind == "person" && actor.owner == "" && actor.id == "alice"'
    outcome: approve
    reason: person
`);
    const i = intent({ onBehalfOf: 'erin', justification: 'hotfix for outage' });
    expect(evaluate(p, { intent: i, actor: agent(), now }).ruleIds).toEqual(['delegated']);
    expect(evaluate(p, { intent: i, actor: person(), now }).ruleIds).toEqual(['people-have-no-owner']);
  });

  it('time rules use the injected clock (UTC)', () => {
    const p = policy(`
  - id: office-hours
    when: 'time.weekday >= 1 && time.weekday <= 5 && time.hour >= 8 && time.hour < 18'
    outcome: approve
    reason: office hours
  - id: after-hours
    when: '!(time.weekday >= 1 && time.weekday <= 5 && time.hour >= 8 && time.hour < 18)'
    outcome: escalate
    reason: after hours
    requirement: { approvers: [{ role: on-call }], expiresIn: 1h }
  - id: new-year
    when: 'time.date == "2026-01-01" && time.minute == 30 && now > timestamp("2025-12-31T23:59:59Z")'
    outcome: refuse
    reason: holiday freeze
`);
    expect(evaluate(p, { intent: intent(), actor: agent(), now: MONDAY_10AM }).ruleIds).toEqual(['office-hours']);
    expect(evaluate(p, { intent: intent(), actor: agent(), now: new Date('2026-01-05T18:00:00Z') }).ruleIds).toEqual(['after-hours']);
    expect(evaluate(p, { intent: intent(), actor: agent(), now: new Date('2026-01-10T10:00:00Z') }).ruleIds).toEqual(['after-hours']);
    expect(evaluate(p, { intent: intent(), actor: agent(), now: new Date('2026-01-01T00:30:00Z') }).ruleIds).toEqual(['new-year']);
  });

  it('numbers from the intent compare with int literals', () => {
    const p = policy(`
  - id: big
    when: 'action.params.amount > 10000 && action.params.amount * 2.0 > 20000.0'
    outcome: refuse
    reason: big
`);
    expect(evaluate(p, { intent: intent({ action: { type: 'payment.send', params: { amount: 10000.5 } } }), actor: agent(), now }).ruleIds).toEqual(['big']);
    expect(evaluate(p, { intent: intent({ action: { type: 'payment.send', params: { amount: 10000 } } }), actor: agent(), now }).ruleIds).toEqual([]);
  });
});

describe('evaluate: several rules of one outcome', () => {
  it('combines escalate requirements: max count, shortest expiry, strictest flags, unions', () => {
    const p = policy(`
  - id: a
    when: 'action.type == "payment.send"'
    outcome: escalate
    reason: reason a
    requirement:
      approvers: [{ role: finance, count: 1 }, { role: security, count: 1 }]
      expiresIn: 4h
      ownerMayApprove: true
      denyEndsRequest: false
      redact: [params.iban]
      channels: { slack: ["#finance"], people: [frank], reminders: [30m, 10m], tiers: [{ after: 1h, slack: ["#cfo"] }] }
  - id: b
    when: 'action.type == "payment.send" && action.params.amount > 1000'
    outcome: escalate
    reason: reason b
    requirement:
      approvers: [{ role: finance, count: 2 }, { role: cfo }]
      expiresIn: 1h
      ownerMayApprove: false
      denyEndsRequest: false
      approvalReasonRequired: true
      redact: [params.iban, params.reference]
      channels: { slack: ["#finance", "#payments"], teams: ['19:finance@thread.tacv2'], reminders: [10m, 20m], tiers: [{ after: 30m, people: [dave] }] }
`);
    const v = evaluate(p, { intent: intent({ action: { type: 'payment.send', params: { amount: 5000 } } }), actor: agent(), now });
    expect(v.outcome).toBe('escalate');
    expect(v.ruleIds).toEqual(['a', 'b']);
    expect(v.reasons).toEqual(['reason a', 'reason b']);
    expect(v.requirement).toEqual({
      groups: [
        { role: 'finance', count: 2 },
        { role: 'security', count: 1 },
        { role: 'cfo', count: 1 },
      ],
      expiresInSeconds: 3600,
      ownerMayApprove: false,
      denyEndsRequest: false,
      approvalReasonRequired: true,
      redact: ['params.iban', 'params.reference'],
      feature: [],
      channels: {
        slack: ['#finance', '#payments'],
        teams: ['19:finance@thread.tacv2'],
        people: ['frank'],
        reminders: [600, 1200, 1800],
        tiers: [
          { afterSeconds: 1800, slack: [], teams: [], people: ['dave'] },
          { afterSeconds: 3600, slack: ['#cfo'], teams: [], people: [] },
        ],
      },
    });
    expect(RequirementSchema.parse(v.requirement)).toEqual(v.requirement);

    // denyEndsRequest is true as soon as one rule says so.
    const strict = policy(`
  - id: a
    when: 'true'
    outcome: escalate
    reason: a
    requirement: { approvers: [{ role: x }], expiresIn: 1h, denyEndsRequest: false }
  - id: b
    when: 'true'
    outcome: escalate
    reason: b
    requirement: { approvers: [{ role: x }], expiresIn: 1h }
`);
    expect(evaluate(strict, { intent: intent(), actor: agent(), now }).requirement?.denyEndsRequest).toBe(true);
  });

  it('override roles of several refusals are intersected; one final refusal makes it final', () => {
    const rules = `
  - id: r1
    when: 'action.type == "data.export"'
    outcome: refuse
    reason: one
    override: { roles: [cto, dpo, ciso] }
  - id: r2
    when: 'action.type == "data.export" && has(context.attributes.pii)'
    outcome: refuse
    reason: two
    override: { roles: [ciso, cto] }
  - id: r3
    when: 'action.type == "data.export" && has(context.attributes.bulk)'
    outcome: refuse
    reason: three
`;
    const p = policy(rules);
    const two = evaluate(p, { intent: intent({ action: { type: 'data.export' }, context: { attributes: { pii: true } } }), actor: agent(), now });
    expect(two).toMatchObject({ outcome: 'refuse', ruleIds: ['r1', 'r2'], reasons: ['one', 'two'], overrideRoles: ['cto', 'ciso'] });
    const three = evaluate(p, { intent: intent({ action: { type: 'data.export' }, context: { attributes: { pii: true, bulk: 1 } } }), actor: agent(), now });
    expect(three).toMatchObject({ ruleIds: ['r1', 'r2', 'r3'], overrideRoles: [] });
  });
});
