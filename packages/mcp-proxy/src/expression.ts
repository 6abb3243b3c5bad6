import { isCelError, isCelList, isCelMap, isCelUint, type CelInput, type CelResult } from '@bufbuild/cel';
import { compileCondition } from '@countersign/policy';

// Mapping expressions are CEL, compiled by the same engine (and the same name checks) as the
// policy's `when`, with one variable: `args`, the tool call's arguments.

export const MAPPING_VARIABLES = ['args'] as const;

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/** Evaluates to plain JSON, or throws MappingEvaluationError (the call is then refused). */
export type MappingExpression = (args: Record<string, unknown>) => JsonValue;

export class MappingEvaluationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MappingEvaluationError';
  }
}

/** Throws the policy engine's ConditionError (with the offset) when the expression is wrong. */
export function compileMappingExpression(source: string): MappingExpression {
  const run = compileCondition(source, MAPPING_VARIABLES);
  return (args) => {
    const result = run({ args: toCel(args) });
    return fromCel(result, source);
  };
}

function fromCel(value: CelResult, source: string): JsonValue {
  if (isCelError(value)) throw new MappingEvaluationError(`${source}: ${value.message}`);
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return value;
  if (typeof value === 'number') return value;
  if (typeof value === 'bigint') return safeNumber(value, source);
  if (isCelUint(value)) return safeNumber(value.value, source);
  if (isCelList(value)) return [...value].map((item) => fromCel(item, source));
  if (isCelMap(value)) {
    const out: Record<string, JsonValue> = {};
    for (const [key, item] of value) {
      if (typeof key !== 'string') throw new MappingEvaluationError(`${source}: map keys must be strings`);
      setOwn(out, key, fromCel(item, source));
    }
    return out;
  }
  throw new MappingEvaluationError(`${source}: the result is not JSON data (strings, numbers, booleans, lists, maps)`);
}

function safeNumber(value: bigint, source: string): number {
  if (value > BigInt(Number.MAX_SAFE_INTEGER) || value < BigInt(Number.MIN_SAFE_INTEGER)) {
    throw new MappingEvaluationError(`${source}: ${value} is too large for JSON`);
  }
  return Number(value);
}

// Arguments arrive as JSON, so this only copies; anything else is refused rather than guessed.
function toCel(value: unknown): CelInput {
  if (value === null || typeof value === 'string' || typeof value === 'boolean' || typeof value === 'number') return value;
  if (Array.isArray(value)) return value.map(toCel);
  if (typeof value === 'object') {
    const out: Record<string, CelInput> = {};
    for (const [k, v] of Object.entries(value)) if (v !== undefined) setOwn(out, k, toCel(v));
    return out;
  }
  throw new MappingEvaluationError(`arguments contain a ${typeof value}, which is not JSON data`);
}

/** `out[key] = value`, except that a key named "__proto__" stays a key (assigning it would set the prototype and drop it). */
function setOwn<T>(out: Record<string, T>, key: string, value: T): void {
  Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
}
