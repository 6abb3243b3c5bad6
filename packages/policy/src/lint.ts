import { parse } from '@bufbuild/cel';
import { stringConstant, type CallNode, type ExprNode } from './cel-ast.ts';
import type { CompiledPolicy } from './types.ts';

// `policy check` lint: an approve rule must rest on facts the caller cannot relabel. The caller
// writes the whole intent, but only some of it decides what runs downstream: the action type,
// the resource, its params and where it runs (all bound by the release token's intent hash and
// acted upon by the executor), plus who asks (`actor`, from the directory). The rest are labels
// the caller picks to describe itself — `risk`, `justification`, `action.summary`,
// `context.attributes`, `authority` — and nothing downstream holds it to them: `risk.class:
// "read"` on an `environment.delete` still deletes the environment.
//
// The check walks the condition's CEL AST as a boolean formula and asks: is there a way for the
// condition to be true whose every conjunct leaves the facts unconstrained? `a && b` constrains
// if either side does, `a || b` only if both do, and negation flips polarity (`!(type == "x")`
// allows every other type, so it constrains nothing). It is a lint, so it errs towards warning.

/** Paths the caller chooses freely and nothing downstream acts upon. */
const LABEL_PATHS: readonly (readonly string[])[] = [['risk'], ['justification'], ['action', 'summary'], ['context', 'attributes'], ['authority']];
/** Neither facts about the action nor the caller's words: the clock. */
const NEUTRAL_ROOTS = new Set(['now', 'time']);
/** Comparisons that still bound a value when negated (`!(amount > 10)` is `amount <= 10`). */
const ORDERINGS = new Set(['_<_', '_<=_', '_>_', '_>=_']);

export interface PolicyLintWarning {
  ruleId: string;
  line: number;
  /** The caller-chosen paths the condition reads (e.g. `risk.class`); empty if it reads none. */
  labels: string[];
  message: string;
}

/** Warnings for approve rules whose condition can hold without constraining a fact. */
export function lintPolicy(policy: CompiledPolicy): PolicyLintWarning[] {
  const warnings: PolicyLintWarning[] = [];
  for (const rule of policy.rules) {
    if (rule.outcome !== 'approve') continue;
    const finding = approvesOnLabelsAlone(rule.when);
    if (!finding) continue;
    const where = `${policy.fileName}:${rule.line}`;
    const what = finding.labels.length
      ? `approves on caller-supplied labels alone (${finding.labels.join(', ')}): the caller chooses these freely`
      : 'approves without any condition on what the action is or who asks';
    warnings.push({
      ruleId: rule.id,
      line: rule.line,
      labels: finding.labels,
      message: `${where}: rule ${rule.id} ${what}; approve on action.type, action.resource or actor.roles instead`,
    });
  }
  return warnings;
}

/**
 * Whether `source` (a compiled policy condition) can be true without constraining any fact.
 * Returns the label paths it reads when so, undefined when every way to satisfy it pins a fact.
 */
export function approvesOnLabelsAlone(source: string): { labels: string[] } | undefined {
  const expr = parse(source).expr as ExprNode | undefined;
  if (constrains(expr, true)) return undefined;
  const labels = new Set<string>();
  collectPaths(expr, (path) => {
    if (isLabel(path)) labels.add(path.join('.'));
  });
  return { labels: [...labels].sort() };
}

/** Does every way for `node` to have truth value `positive` pin down a fact? */
function constrains(node: ExprNode | undefined, positive: boolean): boolean {
  if (!node) return false;
  if (node.exprKind.case !== 'callExpr') return atomConstrains(node, positive, undefined);
  const call = node.exprKind.value as CallNode;
  const [a, b, c] = call.args;
  switch (call.function) {
    case '_&&_':
      // true: both hold, so either side pinning a fact is enough; false: either may fail.
      return positive ? constrains(a, true) || constrains(b, true) : constrains(a, false) && constrains(b, false);
    case '_||_':
      return positive ? constrains(a, true) && constrains(b, true) : constrains(a, false) || constrains(b, false);
    case '!_':
      return constrains(a, !positive);
    case '_?_:_':
      // Either branch may be taken: each must be pinned, by its branch or by the test leading to it.
      return (constrains(a, true) || constrains(b, positive)) && (constrains(a, false) || constrains(c, positive));
    default:
      return atomConstrains(node, positive, call.function);
  }
}

/**
 * A leaf of the formula (comparison, membership, method call…). It pins a fact when it reads
 * one and, in its polarity, names a small set of values: `type == "x"`, `type in [...]`,
 * `type.startsWith("x")`, `"deployer" in actor.roles` hold for few values; their negations
 * (and `!=`) hold for all others. Orderings bound a value either way. `has()` only tests
 * presence, which the caller controls.
 */
function atomConstrains(node: ExprNode, positive: boolean, fn: string | undefined): boolean {
  let readsFact = false;
  collectPaths(node, (path) => {
    if (isFact(path)) readsFact = true;
  });
  if (!readsFact) return false;
  if (fn !== undefined && ORDERINGS.has(fn)) return true;
  if (fn === '_!=_') return !positive;
  return positive;
}

function isLabel(path: readonly string[]): boolean {
  return LABEL_PATHS.some((label) => label.every((part, i) => path[i] === part));
}

/** A path that identifies what runs or who asks: not a label, not the clock, not a bare root. */
function isFact(path: readonly string[]): boolean {
  const [root] = path;
  if (root === undefined || NEUTRAL_ROOTS.has(root) || isLabel(path)) return false;
  // A bare `action` or `context` covers labels too; only a named member counts as a fact.
  if ((root === 'action' || root === 'context') && path.length < 2) return false;
  return true;
}

/**
 * Every variable path read by `node` (`action.params.amount` → [action, params, amount]),
 * excluding `has()` tests and comprehension variables. Indexing with a constant string extends
 * the path; with anything else, the indexed value and the index are read separately.
 */
function collectPaths(node: ExprNode | undefined, visit: (path: string[]) => void, bound: ReadonlySet<string> = new Set()): void {
  if (!node) return;
  const path = pathOf(node);
  if (path) {
    if (!bound.has(path[0]!)) visit(path);
    return;
  }
  const { case: kind, value } = node.exprKind;
  switch (kind) {
    case 'selectExpr': {
      const select = value as { operand?: ExprNode; testOnly: boolean };
      // has(x.y): presence only, which the caller controls.
      if (select.testOnly) return;
      collectPaths(select.operand, visit, bound);
      return;
    }
    case 'callExpr': {
      const call = value as CallNode;
      collectPaths(call.target, visit, bound);
      for (const arg of call.args) collectPaths(arg, visit, bound);
      return;
    }
    case 'listExpr':
      for (const el of (value as { elements: ExprNode[] }).elements) collectPaths(el, visit, bound);
      return;
    case 'structExpr':
      for (const entry of (value as { entries: { keyKind: { case: string | undefined; value?: unknown }; value?: ExprNode }[] }).entries) {
        if (entry.keyKind.case === 'mapKey') collectPaths(entry.keyKind.value as ExprNode, visit, bound);
        collectPaths(entry.value, visit, bound);
      }
      return;
    case 'comprehensionExpr': {
      const c = value as { iterVar: string; iterVar2?: string; accuVar: string; iterRange?: ExprNode; accuInit?: ExprNode; loopCondition?: ExprNode; loopStep?: ExprNode; result?: ExprNode };
      collectPaths(c.iterRange, visit, bound);
      const inner = new Set(bound);
      for (const v of [c.iterVar, c.iterVar2, c.accuVar]) if (v) inner.add(v);
      for (const part of [c.accuInit, c.loopCondition, c.loopStep, c.result]) collectPaths(part, visit, inner);
      return;
    }
    default:
      return;
  }
}

/** The variable path `node` denotes, if it is one (identifier, field selections, constant indexes). */
function pathOf(node: ExprNode): string[] | undefined {
  const { case: kind, value } = node.exprKind;
  if (kind === 'identExpr') return [(value as { name: string }).name];
  if (kind === 'selectExpr') {
    const select = value as { operand?: ExprNode; field: string; testOnly: boolean };
    if (select.testOnly || !select.operand) return undefined;
    const base = pathOf(select.operand);
    return base ? [...base, select.field] : undefined;
  }
  if (kind === 'callExpr') {
    const call = value as CallNode;
    if (call.function !== '_[_]' || call.args.length !== 2) return undefined;
    const [operand, index] = call.args;
    const base = operand ? pathOf(operand) : undefined;
    const key = index ? stringConstant(index) : undefined;
    // A computed index is read like any expression (by the caller's walk), not as a path.
    return base && key !== undefined ? [...base, key] : undefined;
  }
  return undefined;
}
