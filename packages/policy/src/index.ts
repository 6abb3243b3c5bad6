export { loadPolicy, type PolicyLoadOptions } from './load-policy.ts';
export { policyFileSchema } from './policy-file.ts';
export { evaluate } from './evaluate.ts';
export type { EvaluateOptions, EvaluationInput } from './evaluate.ts';
export type { RuleGuard } from './guard.ts';
export { combineRequirements, intersectOverrideRoles } from './combine.ts';
export { runPolicyTests } from './policy-tests.ts';
export type { PolicyTestExpectation, PolicyTestActual, PolicyTestResult, PolicyTestReport } from './policy-tests.ts';
export { POLICY_VARIABLES, compileCondition, ConditionError } from './cel.ts';
export type { CompiledCondition } from './cel.ts';
export { parseDuration } from './duration.ts';
export { executorIssues, executorOrigin, executorDestinationProblems } from './executor-check.ts';
export type { ExecutorIssue } from './executor-check.ts';
export type { CompiledPolicy, CompiledRule } from './types.ts';
// Re-exported so callers that only load policy need not import the directory package for it.
export { ConfigError } from '@countersign/directory';
export { lintPolicy, approvesOnLabelsAlone } from './lint.ts';
export type { PolicyLintWarning } from './lint.ts';
