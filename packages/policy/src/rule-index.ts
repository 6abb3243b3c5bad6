import { isCelMap } from '@bufbuild/cel';
import type { RuleGuard } from './guard.ts';

// The guard index: which rules can match an intent, found without running their CEL. Rules are
// grouped by the field their guard reads, then by the literal; per intent each field is read
// once and only the rules whose literal equals its value (plus every unguarded rule) are
// evaluated. Policies grow to hundreds of rules guarded by `action.type == "…"` or
// `action.resource == "…"`, so an intent pays for the few that name it, not for all of them.

export interface RuleIndex {
  /** Positions of rules without a guard, ascending: always evaluated. */
  readonly unguarded: readonly number[];
  readonly fields: readonly GuardedField[];
}

interface GuardedField {
  readonly root: string;
  readonly fields: readonly string[];
  /** Rule positions by guard literal, each ascending. */
  readonly byLiteral: ReadonlyMap<string, readonly number[]>;
  /** Every rule guarded on this field, ascending: when the field is missing or not a string. */
  readonly all: readonly number[];
}

/**
 * One guard per rule among its candidate terms: the most selective, i.e. the (field, literal)
 * pair the fewest rules of the policy share, leftmost on a tie. `action.type == "bench.slack"
 * && action.resource == "res-42"` across many resources is indexed by its resource.
 */
export function chooseGuards(termsByRule: readonly (readonly RuleGuard[])[]): (RuleGuard | undefined)[] {
  const shared = new Map<string, number>();
  for (const terms of termsByRule) {
    for (const key of new Set(terms.map(termKey))) shared.set(key, (shared.get(key) ?? 0) + 1);
  }
  return termsByRule.map((terms) => {
    let best: RuleGuard | undefined;
    for (const term of terms) if (!best || shared.get(termKey(term))! < shared.get(termKey(best))!) best = term;
    return best;
  });
}

export function buildRuleIndex(guards: readonly (RuleGuard | undefined)[]): RuleIndex {
  const unguarded: number[] = [];
  const byPath = new Map<string, { root: string; fields: string[]; byLiteral: Map<string, number[]>; all: number[] }>();
  guards.forEach((guard, position) => {
    if (!guard) {
      unguarded.push(position);
      return;
    }
    const key = JSON.stringify(guard.path);
    let field = byPath.get(key);
    if (!field) {
      const [root, ...fields] = guard.path as [string, ...string[]];
      field = { root, fields, byLiteral: new Map(), all: [] };
      byPath.set(key, field);
    }
    field.all.push(position);
    const bucket = field.byLiteral.get(guard.literal);
    if (bucket) bucket.push(position);
    else field.byLiteral.set(guard.literal, [position]);
  });
  return { unguarded, fields: [...byPath.values()] };
}

const NONE: readonly number[] = [];

/** Positions of the rules that can match, ascending (rule order is kept). */
export function candidateRules(index: RuleIndex, bindings: Readonly<Record<string, unknown>>): readonly number[] {
  let result = index.unguarded;
  for (const field of index.fields) {
    const value = readString(bindings, field.root, field.fields);
    result = mergeAscending(result, value === undefined ? field.all : (field.byLiteral.get(value) ?? NONE));
  }
  return result;
}

/**
 * The field's value as CEL's `==` compares it, when it is a string; undefined otherwise (missing,
 * null, a number, a map…), which never skips a rule. Read the way @bufbuild/cel reads a select
 * from the bindings (buildBindings hands it CEL maps): `CelMap.get`. Anything else on the way
 * (the `now` timestamp, a list) is not walked.
 */
function readString(bindings: Readonly<Record<string, unknown>>, root: string, fields: readonly string[]): string | undefined {
  if (!Object.prototype.propertyIsEnumerable.call(bindings, root)) return undefined;
  let value = bindings[root];
  for (const field of fields) {
    if (!isCelMap(value)) return undefined;
    value = value.get(field);
  }
  return typeof value === 'string' ? value : undefined;
}

function mergeAscending(a: readonly number[], b: readonly number[]): readonly number[] {
  if (b.length === 0) return a;
  if (a.length === 0) return b;
  const out: number[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) out.push(a[i]! < b[j]! ? a[i++]! : b[j++]!);
  while (i < a.length) out.push(a[i++]!);
  while (j < b.length) out.push(b[j++]!);
  return out;
}

function termKey(term: RuleGuard): string {
  return JSON.stringify([term.path, term.literal]);
}
