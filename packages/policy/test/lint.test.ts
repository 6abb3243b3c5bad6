import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { approvesOnLabelsAlone, lintPolicy, loadPolicy } from '../src/index.ts';
import { channels, policy } from './helpers.ts';

// The lint behind `countersign policy check`: an approve rule that the caller can satisfy by
// describing itself (risk.class: read) approves anything that says so.

describe('approvesOnLabelsAlone', () => {
  it.each([
    ['has(risk.class) && risk.class == "read"', ['risk.class']],
    ['risk.class == "read" || action.type == "db.query"', ['risk.class']],
    ['justification.contains("CHG-")', ['justification']],
    ['action.summary.startsWith("Read")', ['action.summary']],
    ['has(context.attributes.safe) && context.attributes.safe == true', ['context.attributes.safe']],
    ['has(authority.changeTicket)', []],
    ['authority.changeTicket != ""', ['authority.changeTicket']],
    ['true', []],
    ['time.hour >= 8 && time.hour < 18', []],
    ['risk["class"] == "read"', ['risk.class']],
    // Negated facts pin nothing: every other type passes.
    ['action.type != "database.drop" && risk.class == "read"', ['risk.class']],
    ['!(action.type in ["database.drop"])', []],
    ['has(action.resource)', []],
    // A fact on one branch of a ternary leaves the other branch open.
    ['risk.class == "read" ? true : action.type == "db.query"', ['risk.class']],
    ['risk.tags.exists(t, t == "safe")', ['risk.tags']],
  ])('%s rests on labels alone', (source, labels) => {
    expect(approvesOnLabelsAlone(source)).toEqual({ labels });
  });

  it.each([
    'action.type == "db.query"',
    'action.type in ["db.query", "logs.read"] && risk.class == "read"',
    '"deployer" in actor.roles',
    'actor.roles.exists(r, r == "deployer")',
    'action.type == "payment.send" && action.params.amount <= 10000',
    '!(action.params.amount > 10000)',
    '!(action.type != "db.query")',
    'has(context.environment) && context.environment in ["staging", "dev"]',
    'action.resource.endsWith("-replica") || actor.id == "finance-bot"',
    'action.params["amount"] < 10',
    'risk.class == "read" ? action.type == "db.query" : actor.id == "root-bot"',
  ])('%s pins a fact', (source) => {
    expect(approvesOnLabelsAlone(source)).toBeUndefined();
  });
});

describe('lintPolicy', () => {
  it('fires on the old demo rule reads-are-fine, with file and line', () => {
    const p = policy(`
  - id: ok
    when: 'action.type == "db.query"'
    outcome: approve
    reason: queries
  - id: reads-are-fine
    description: Reading data changes nothing; let any known actor do it.
    when: 'has(risk.class) && risk.class == "read"'
    outcome: approve
    reason: Read-only actions are approved automatically
`);
    expect(lintPolicy(p)).toEqual([
      {
        ruleId: 'reads-are-fine',
        line: 8,
        labels: ['risk.class'],
        message:
          'policy.yaml:8: rule reads-are-fine approves on caller-supplied labels alone (risk.class): the caller chooses these freely; approve on action.type, action.resource or actor.roles instead',
      },
    ]);
  });

  it('leaves escalate and refuse rules alone: asking people or refusing on a label is safe', () => {
    const p = policy(`
  - id: urgent
    when: 'has(risk.urgency) && risk.urgency == "high"'
    outcome: escalate
    reason: urgent
    requirement: { approvers: [{ role: on-call }], expiresIn: 1h }
  - id: pii
    when: 'has(context.attributes.pii) && context.attributes.pii == true'
    outcome: refuse
    reason: no
`);
    expect(lintPolicy(p)).toEqual([]);
  });

  it('says so when an approve rule has no condition on anything', () => {
    const p = policy(`
  - id: office-hours
    when: 'time.hour >= 8 && time.hour < 18'
    outcome: approve
    reason: someone is around
`);
    expect(lintPolicy(p).map((w) => w.message)).toEqual([
      'policy.yaml:4: rule office-hours approves without any condition on what the action is or who asks; approve on action.type, action.resource or actor.roles instead',
    ]);
  });

  it('the shipped demo policy passes', () => {
    const path = resolve(import.meta.dirname, '../../../config/policy.yaml');
    expect(lintPolicy(loadPolicy(readFileSync(path, 'utf8'), path, { channels }))).toEqual([]);
  });
});
