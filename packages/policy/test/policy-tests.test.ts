import { loadDirectory } from '@countersign/directory';
import { describe, expect, it } from 'vitest';
import { ConfigError, runPolicyTests } from '../src/index.ts';
import { policy } from './helpers.ts';

const directory = loadDirectory(
  `version: 1
people:
  - { id: erin, name: Erin, email: erin@example.com, roles: [developer] }
agents:
  - { id: deploy-bot, name: Deploy bot, owner: erin, roles: [deployer] }
`,
  'directory.yaml',
);

const p = policy(`
  - id: reads
    when: 'has(risk.class) && risk.class == "read"'
    outcome: approve
    reason: reads
  - id: office-hours-only
    when: 'action.type == "deployment.create" && (time.hour < 8 || time.hour >= 18)'
    outcome: escalate
    reason: after hours
    requirement: { approvers: [{ role: on-call }], expiresIn: 1h }
`);

describe('runPolicyTests', () => {
  it('passes matching cases and reports mismatches precisely', () => {
    const text = `cases:
  - name: reads pass
    actor: deploy-bot
    intent: { action: { type: db.query }, risk: { class: read } }
    expect: { outcome: approve, rules: [reads] }
  - name: wrong outcome
    actor: erin
    intent: { action: { type: db.drop } }
    expect: { outcome: approve }
  - name: wrong rules
    actor: deploy-bot
    intent: { action: { type: db.query }, risk: { class: read } }
    expect: { outcome: approve, rules: [reads, other] }
  - name: after hours by the clock
    actor: deploy-bot
    at: "2026-01-05T20:00:00Z"
    intent: { action: { type: deployment.create } }
    expect: { outcome: escalate, approvers: [{ role: on-call, count: 1 }] }
  - name: wrong approvers
    actor: deploy-bot
    at: "2026-01-05T20:00:00+00:00"
    intent: { action: { type: deployment.create } }
    expect: { outcome: escalate, approvers: [{ role: on-call, count: 2 }] }
`;
    const report = runPolicyTests(p, directory, text, 'p.test.yaml');
    expect(report.results.map((r) => [r.name, r.ok])).toEqual([
      ['reads pass', true],
      ['wrong outcome', false],
      ['wrong rules', false],
      ['after hours by the clock', true],
      ['wrong approvers', false],
    ]);
    expect({ passed: report.passed, failed: report.failed }).toEqual({ passed: 2, failed: 3 });
    const [, wrongOutcome, wrongRules, , wrongApprovers] = report.results;
    expect(wrongOutcome!.message).toBe('expected approve, got refuse (rules: []; reasons: no rule matched) (p.test.yaml:6:5)');
    expect(wrongOutcome!.actual).toMatchObject({ outcome: 'refuse', rules: [] });
    expect(wrongRules!.message).toMatch(/^expected rules \[reads, other\], got \[reads\]/);
    expect(wrongApprovers!.message).toMatch(/^expected approvers \[2x on-call\], got \[1x on-call\]/);
    expect(report.results[0]).toMatchObject({ message: '', expected: { outcome: 'approve', rules: ['reads'] } });
  });

  it('uses the injected clock when a case has no `at`', () => {
    const text = `cases:
  - name: deploy
    actor: deploy-bot
    intent: { action: { type: deployment.create } }
    expect: { outcome: escalate }
`;
    expect(runPolicyTests(p, directory, text, 't.yaml', { now: () => new Date('2026-01-05T23:00:00Z') }).passed).toBe(1);
    expect(runPolicyTests(p, directory, text, 't.yaml', { now: () => new Date('2026-01-05T12:00:00Z') }).failed).toBe(1);
  });

  it('an unknown actor fails the case', () => {
    const report = runPolicyTests(p, directory, `cases:
  - name: ghost
    actor: ghost-bot
    intent: { action: { type: db.query }, risk: { class: read } }
    expect: { outcome: approve }
`, 't.yaml');
    expect(report.failed).toBe(1);
    expect(report.results[0]!.actual).toBeNull();
    expect(report.results[0]!.message).toMatch(/^unknown actor "ghost-bot"/);
  });

  it('an invalid intent fails the case and says where', () => {
    const report = runPolicyTests(p, directory, `cases:
  - name: bad intent
    actor: deploy-bot
    intent:
      action: { type: NotAType }
    expect: { outcome: approve }
`, 't.yaml');
    expect(report.failed).toBe(1);
    expect(report.results[0]!.message).toMatch(/^invalid intent at t\.yaml:5:23: action\.type: must look like "domain\.verb"/);
  });

  it('a malformed test file is a ConfigError', () => {
    expect(() => runPolicyTests(p, directory, 'cases:\n  - name: x\n    actor: a\n    intent: {}\n    expect: { outcome: maybe }\n', 't.yaml')).toThrow(ConfigError);
    expect(() => runPolicyTests(p, directory, 'cases: []\n', 't.yaml')).toThrow(/t\.yaml:1:8: cases: a policy test file needs at least one case/);
  });
});
