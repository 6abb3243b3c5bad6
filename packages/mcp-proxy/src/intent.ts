import { canonicalJson, intentHash, type IntentInput } from './countersign-sdk.ts';
import { MappingEvaluationError, type JsonValue } from './expression.ts';
import type { ToolMapping } from './load-mapping.ts';

/** `context.attributes.mcpTool`: the MCP tool the call is for (policy can match on it). */
export const TOOL_ATTRIBUTE = 'mcpTool';

/** A tool call described as an intent, with the exact arguments that may be forwarded. */
export interface DescribedCall {
  /** Deeply frozen. `intent.action.params` is `params`: the object hashed is the object forwarded. */
  intent: IntentInput;
  /** The call's arguments as canonical JSON data, deeply frozen. */
  params: Readonly<Record<string, unknown>>;
  /** What the server must have recorded for the approval to apply to these arguments. */
  intentHash: string;
}

/**
 * Builds the intent for one call. The arguments are copied through their RFC 8785 canonical
 * form and frozen, so nothing (no handler, no later mutation of the caller's object) can change
 * what is forwarded after it was hashed. Throws MappingEvaluationError when an expression fails.
 */
export function describeCall(tool: ToolMapping, toolName: string, args: Record<string, unknown>): DescribedCall {
  if (!tool.actionType) throw new MappingEvaluationError(`tool "${toolName}" is a passthrough and has no action`);
  let params: Record<string, unknown>;
  try {
    params = JSON.parse(canonicalJson(args)) as Record<string, unknown>;
  } catch (err) {
    throw new MappingEvaluationError(`the arguments are not JSON data: ${(err as Error).message}`);
  }
  const intent: Record<string, unknown> = { action: { type: tool.actionType, params } };
  if (tool.risk) intent.risk = { ...tool.risk };
  for (const field of tool.fields) {
    const value = field.evaluate(params);
    // null means "leave it out": lets a mapping say `has(args.x) ? args.x : null`.
    if (value === null) continue;
    setAt(intent, field.path, checked(field.path, value));
  }
  // Which tool runs is part of what is approved: a glob (or "*") maps many tools to one action
  // type, and the same arguments to another tool must not look, or hash, the same. Set last, so
  // a mapping cannot name another tool here.
  setAt(intent, ['context', 'attributes', TOOL_ATTRIBUTE], toolName);
  const frozen = deepFreeze(intent) as unknown as IntentInput;
  return { intent: frozen, params: frozen.action.params as Readonly<Record<string, unknown>>, intentHash: intentHash(frozen) };
}

// Every intent field a mapping fills is text, except attributes (any JSON).
function checked(path: readonly string[], value: JsonValue): JsonValue {
  if (path.includes('attributes')) return value;
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  throw new MappingEvaluationError(`${path.join('.')} must be text, not ${Array.isArray(value) ? 'a list' : 'a map'}`);
}

function setAt(target: Record<string, unknown>, path: readonly string[], value: unknown): void {
  let node = target;
  for (const key of path.slice(0, -1)) {
    const next = node[key];
    if (next === undefined) node[key] = {};
    node = node[key] as Record<string, unknown>;
  }
  node[path[path.length - 1]!] = value;
}

export function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    for (const item of Object.values(value)) deepFreeze(item);
    Object.freeze(value);
  }
  return value;
}
