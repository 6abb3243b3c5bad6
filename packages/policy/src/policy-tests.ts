import { IntentSchema, RoleSchema } from '@countersign/contracts';
import type { Outcome } from '@countersign/contracts';
import { formatPath, parseYamlWithSchema } from '@countersign/directory';
import type { Directory } from '@countersign/directory';
import { z } from 'zod';
import { evaluate } from './evaluate.ts';
import type { CompiledPolicy } from './types.ts';

// `countersign policy test`: example intents with the verdict the policy must give, kept next
// to the policy in git so a change that loosens it fails CI before it reaches production.

const RoleCountSchema = z.strictObject({ role: RoleSchema, count: z.int().min(1).max(10) });

const ExpectationSchema = z.strictObject({
  outcome: z.enum(['approve', 'refuse', 'escalate']),
  /** Exactly these rule ids (any order) produced the outcome. */
  rules: z.array(z.string()).optional(),
  /** Escalations only: exactly these approver groups (any order). */
  approvers: z.array(RoleCountSchema).optional(),
  /** Refusals only: exactly these override roles (any order). */
  overrideRoles: z.array(RoleSchema).optional(),
});

const PolicyTestFileSchema = z.strictObject({
  cases: z
    .array(
      z.strictObject({
        name: z.string().trim().min(1),
        /** A directory id (person or agent): who is acting. */
        actor: z.string().min(1),
        /** The clock for this case; defaults to the real time. */
        at: z.iso.datetime({ offset: true }).optional(),
        /** Validated against the intent contract per case, so a bad intent fails only its case. */
        intent: z.unknown(),
        expect: ExpectationSchema,
      }),
    )
    .min(1, 'a policy test file needs at least one case'),
});

export type PolicyTestExpectation = z.output<typeof ExpectationSchema>;

export interface PolicyTestActual {
  outcome: Outcome;
  rules: string[];
  reasons: string[];
  approvers?: { role: string; count: number }[];
  overrideRoles?: string[];
}

export interface PolicyTestResult {
  name: string;
  ok: boolean;
  expected: PolicyTestExpectation;
  /** null when the case could not be evaluated (unknown actor, invalid intent). */
  actual: PolicyTestActual | null;
  /** Empty when ok; otherwise what differed, with file:line:column of the case. */
  message: string;
}

export interface PolicyTestReport {
  passed: number;
  failed: number;
  results: PolicyTestResult[];
}

/** Run a policy test file against a policy and directory. Throws ConfigError for a malformed file. */
export function runPolicyTests(
  policy: CompiledPolicy,
  directory: Directory,
  text: string,
  fileName: string,
  options: { now?: () => Date } = {},
): PolicyTestReport {
  const parsed = parseYamlWithSchema(text, fileName, PolicyTestFileSchema);
  const clock = options.now ?? (() => new Date());

  const results = parsed.value.cases.map((testCase, i): PolicyTestResult => {
    const where = (path: (string | number)[]) => {
      const { line, column } = parsed.locate(['cases', i, ...path]);
      return `${fileName}:${line}:${column}`;
    };
    const fail = (actual: PolicyTestActual | null, message: string): PolicyTestResult => ({
      name: testCase.name,
      ok: false,
      expected: testCase.expect,
      actual,
      message: `${message} (${where([])})`,
    });

    const actor = directory.actorOf(testCase.actor);
    if (!actor) return fail(null, `unknown actor "${testCase.actor}": not a person or agent in the directory`);

    const intent = IntentSchema.safeParse(testCase.intent);
    if (!intent.success) {
      const issue = intent.error.issues[0]!;
      const path = issue.path.filter((p): p is string | number => typeof p !== 'symbol');
      return fail(null, `invalid intent at ${where(['intent', ...path])}: ${formatPath(path)}: ${issue.message}`);
    }

    const verdict = evaluate(policy, { intent: intent.data, actor, now: testCase.at ? new Date(testCase.at) : clock() });
    const actual: PolicyTestActual = {
      outcome: verdict.outcome,
      rules: [...verdict.ruleIds],
      reasons: [...verdict.reasons],
      ...(verdict.requirement ? { approvers: verdict.requirement.groups.map((g) => ({ role: g.role, count: g.count })) } : {}),
      ...(verdict.overrideRoles ? { overrideRoles: [...verdict.overrideRoles] } : {}),
    };

    const problems = compare(testCase.expect, actual);
    if (problems.length > 0) return fail(actual, problems.join('; '));
    return { name: testCase.name, ok: true, expected: testCase.expect, actual, message: '' };
  });

  const passed = results.filter((r) => r.ok).length;
  return { passed, failed: results.length - passed, results };
}

function compare(expected: PolicyTestExpectation, actual: PolicyTestActual): string[] {
  const problems: string[] = [];
  if (expected.outcome !== actual.outcome) {
    problems.push(`expected ${expected.outcome}, got ${actual.outcome} (rules: ${list(actual.rules)}; reasons: ${actual.reasons.join(' | ')})`);
  }
  if (expected.rules && !sameSet(expected.rules, actual.rules)) {
    problems.push(`expected rules ${list(expected.rules)}, got ${list(actual.rules)}`);
  }
  if (expected.approvers) {
    const want = expected.approvers.map((g) => `${g.count}x ${g.role}`);
    const got = (actual.approvers ?? []).map((g) => `${g.count}x ${g.role}`);
    if (!sameSet(want, got)) problems.push(`expected approvers ${list(want)}, got ${list(got)}`);
  }
  if (expected.overrideRoles && !sameSet(expected.overrideRoles, actual.overrideRoles ?? [])) {
    problems.push(`expected override roles ${list(expected.overrideRoles)}, got ${list(actual.overrideRoles ?? [])}`);
  }
  return problems;
}

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  const sa = new Set(a);
  const sb = new Set(b);
  return sa.size === sb.size && [...sa].every((x) => sb.has(x)) && a.length === b.length;
}

function list(items: readonly string[]): string {
  return items.length ? `[${items.join(', ')}]` : '[]';
}
