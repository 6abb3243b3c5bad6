// A minimal structural view of the cel.expr.Expr protobuf messages that @bufbuild/cel's
// `parse` returns, shared by the analyses that walk a rule's condition (guard.ts, lint.ts).

export interface ExprNode {
  exprKind: { case: string | undefined; value?: unknown };
}

export interface CallNode {
  function: string;
  target?: ExprNode;
  args: ExprNode[];
}

/** The string `node` is when it is a string literal, else undefined. */
export function stringConstant(node: ExprNode): string | undefined {
  if (node.exprKind.case !== 'constExpr') return undefined;
  const constant = (node.exprKind.value as { constantKind: { case: string | undefined; value?: unknown } }).constantKind;
  return constant.case === 'stringValue' ? (constant.value as string) : undefined;
}
