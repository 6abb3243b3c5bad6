import { parse } from '@bufbuild/cel';
import { stringConstant, type CallNode, type ExprNode } from './cel-ast.ts';
import { POLICY_VARIABLES } from './cel.ts';

// A rule's guard: one term `path == "literal"` of its condition's top-level conjunction. In CEL,
// `false && x` is false whatever x is — an error, a non-boolean, in either order (@bufbuild/cel's
// `&&` absorbs errors when any side is false). So when the guarded field is a string other than
// the literal, the term is false and so is the whole condition: the rule cannot match and cannot
// error, and evaluate() may skip it. Anything else (field missing, not a string, equal) proves
// nothing and the rule is evaluated in full.

/** A term `path == "literal"` that must hold for a rule to match. */
export interface RuleGuard {
  /** The variable, then the fields selected from it: `action.type` → ['action', 'type']. */
  readonly path: readonly string[];
  readonly literal: string;
}

const VARIABLES: ReadonlySet<string> = new Set(POLICY_VARIABLES);

/**
 * Every guard term of a compiled policy condition, leftmost first; empty when its top level is
 * not a conjunction (`||`, `!`, a ternary…) or no conjunct has the shape. A bare `path == "x"` is
 * a conjunction of one.
 */
export function guardTerms(source: string): RuleGuard[] {
  const terms: RuleGuard[] = [];
  for (const conjunct of conjuncts(parse(source).expr as ExprNode | undefined)) {
    const term = equalityTerm(conjunct);
    if (term) terms.push(term);
  }
  return terms;
}

/** The operands of nested `&&` calls, left to right; the node itself when it is not one. */
function conjuncts(node: ExprNode | undefined): ExprNode[] {
  if (!node) return [];
  if (node.exprKind.case === 'callExpr') {
    const call = node.exprKind.value as CallNode;
    if (call.function === '_&&_' && !call.target) return call.args.flatMap(conjuncts);
  }
  return [node];
}

function equalityTerm(node: ExprNode): RuleGuard | undefined {
  if (node.exprKind.case !== 'callExpr') return undefined;
  const call = node.exprKind.value as CallNode;
  if (call.function !== '_==_' || call.target || call.args.length !== 2) return undefined;
  const [a, b] = call.args as [ExprNode, ExprNode];
  const literal = stringConstant(b) ?? stringConstant(a);
  const path = stringConstant(b) !== undefined ? plainPath(a) : plainPath(b);
  return literal !== undefined && path ? { path, literal } : undefined;
}

/**
 * `variable.field.field…` over one of the policy's variables. `has()` tests, optional selection
 * (`a.?b`), indexing and calls are not paths: their value is not the field's.
 */
function plainPath(node: ExprNode): string[] | undefined {
  const { case: kind, value } = node.exprKind;
  if (kind === 'identExpr') {
    const name = (value as { name: string }).name;
    return VARIABLES.has(name) ? [name] : undefined;
  }
  if (kind === 'selectExpr') {
    const select = value as { operand?: ExprNode; field: string; testOnly: boolean };
    if (select.testOnly || !select.operand) return undefined;
    const base = plainPath(select.operand);
    return base ? [...base, select.field] : undefined;
  }
  return undefined;
}
