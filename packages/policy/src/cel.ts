import { celEnv, isCelError, parse, plan } from '@bufbuild/cel';
import type { CelInput, CelResult } from '@bufbuild/cel';
import { strings } from '@bufbuild/cel/ext';

// CEL for `when` conditions. @bufbuild/cel has no public type checker, so we do the checks that
// matter for fail-closed policy ourselves at load time: every identifier must be one of our
// variables (a typo like `acton.type` would otherwise only surface as a runtime error, which
// fails closed but refuses everything the rule was meant to let through), and every function
// must exist.

/** The variables a `when` expression may use (see README.md for their shapes). */
export const POLICY_VARIABLES = ['action', 'context', 'risk', 'authority', 'onBehalfOf', 'justification', 'actor', 'now', 'time'] as const;

export type PolicyBindings = Record<(typeof POLICY_VARIABLES)[number], CelInput>;
// Any bindings a caller compiled the expression for (the policy's are PolicyBindings).
export type CompiledCondition = (bindings: Record<string, CelInput>) => CelResult;

const env = celEnv({ funcs: strings });

// Type names are identifiers in CEL (`type(x) == string`).
const TYPE_IDENTS = new Set(['int', 'uint', 'double', 'bool', 'string', 'bytes', 'list', 'map', 'null_type', 'type', 'dyn']);
// Operators the planner implements itself rather than through the function registry.
const PLANNER_OPERATORS = new Set(['_&&_', '_||_', '_?_:_', '_[_]', '_[?_]', '_?._', '@not_strictly_false', '__not_strictly_false__']);

export class ConditionError extends Error {
  /** 0-based character offset inside the expression, when known. */
  readonly offset: number | undefined;
  constructor(message: string, offset?: number) {
    super(message);
    this.name = 'ConditionError';
    this.offset = offset;
  }
}

/**
 * Parse, check and plan once; the result is evaluated per intent. Throws ConditionError.
 * `variables` are the names the expression may use: the policy's by default; other callers
 * (the MCP proxy's mappings over `args`) name their own.
 */
export function compileCondition(source: string, variables: readonly string[] = POLICY_VARIABLES): CompiledCondition {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(source);
  } catch (err) {
    const e = err as Error & { rawMessage?: string; location?: { start?: { offset?: number } } };
    throw new ConditionError(`syntax error: ${e.rawMessage ?? e.message}`, e.location?.start?.offset);
  }
  const positions = parsed.sourceInfo?.positions ?? {};
  checkNames(parsed.expr, new Set(), variables, (message, id) => {
    throw new ConditionError(message, positions[String(id)]);
  });
  const run = plan(env, parsed);
  return (bindings) => run(bindings);
}

/** A CEL result as a boolean, or the reason it is not one (fail closed on anything else). */
export function asBoolean(result: CelResult): { ok: true; value: boolean } | { ok: false; error: string } {
  if (isCelError(result)) return { ok: false, error: result.message };
  if (typeof result === 'boolean') return { ok: true, value: result };
  return { ok: false, error: `expression returned ${describe(result)}, not a boolean` };
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'bigint') return 'an int';
  if (typeof value === 'number') return 'a double';
  if (typeof value === 'string') return 'a string';
  return 'a non-boolean value';
}

// Minimal structural view of the cel.expr.Expr protobuf messages we walk.
interface ExprNode {
  id: bigint;
  exprKind: { case: string | undefined; value?: unknown };
}
interface ComprehensionNode {
  iterVar: string;
  iterVar2?: string;
  accuVar: string;
  iterRange?: ExprNode;
  accuInit?: ExprNode;
  loopCondition?: ExprNode;
  loopStep?: ExprNode;
  result?: ExprNode;
}

function checkNames(
  node: ExprNode | undefined,
  bound: ReadonlySet<string>,
  variables: readonly string[],
  fail: (message: string, id: bigint) => never,
): void {
  if (!node) return;
  const { case: kind, value } = node.exprKind;
  switch (kind) {
    case 'identExpr': {
      const name = (value as { name: string }).name;
      if (bound.has(name) || TYPE_IDENTS.has(name) || variables.includes(name)) return;
      fail(`unknown variable "${name}" (known: ${variables.join(', ')})`, node.id);
      return;
    }
    case 'selectExpr':
      checkNames((value as { operand?: ExprNode }).operand, bound, variables, fail);
      return;
    case 'callExpr': {
      const call = value as { function: string; target?: ExprNode; args: ExprNode[] };
      if (!PLANNER_OPERATORS.has(call.function) && !env.funcs.find(call.function)) {
        fail(`unknown function "${call.function}"`, node.id);
      }
      checkNames(call.target, bound, variables, fail);
      for (const arg of call.args) checkNames(arg, bound, variables, fail);
      return;
    }
    case 'listExpr':
      for (const el of (value as { elements: ExprNode[] }).elements) checkNames(el, bound, variables, fail);
      return;
    case 'structExpr':
      for (const entry of (value as { entries: { keyKind: { case: string | undefined; value?: unknown }; value?: ExprNode }[] }).entries) {
        if (entry.keyKind.case === 'mapKey') checkNames(entry.keyKind.value as ExprNode, bound, variables, fail);
        checkNames(entry.value, bound, variables, fail);
      }
      return;
    case 'comprehensionExpr': {
      const c = value as ComprehensionNode;
      checkNames(c.iterRange, bound, variables, fail);
      checkNames(c.accuInit, bound, variables, fail);
      const inner = new Set(bound);
      for (const v of [c.iterVar, c.iterVar2, c.accuVar]) if (v) inner.add(v);
      checkNames(c.loopCondition, inner, variables, fail);
      checkNames(c.loopStep, inner, variables, fail);
      checkNames(c.result, inner, variables, fail);
      return;
    }
    default:
      // constants and empty nodes reference nothing
      return;
  }
}
