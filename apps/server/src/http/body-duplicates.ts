import type { FieldIssue } from '@countersign/contracts';
import { stringEnd } from './body-numbers.ts';

// JSON lets an object name a member twice; JSON.parse keeps the last one, while other readers
// keep the first ({"type":"environment.delete", …, "type":"db.query"} is a query here and a
// delete to a first-match reader). Whoever acts on the agent's own text could then act on a
// member nobody approved, so a body that names a member twice in one object is refused, naming
// the member, as bad input (review s14 b).

/**
 * The first member named twice in one object of `text` (valid JSON, parsed as `parsed`), as an
 * issue. Members are counted twice: in the text (every colon outside a string) and in what
 * parsing kept; only when the text has more is the text walked again to name the duplicate.
 */
export function duplicateKeyIssue(text: string, parsed: unknown): FieldIssue | null {
  if (membersInText(text) !== membersKept(parsed)) {
    const path = firstDuplicatePath(text);
    if (path) return { field: path.join('.'), message: `the member "${String(path[path.length - 1])}" appears more than once in its object: send it once` };
  }
  return caseFoldedPair(parsed);
}

/**
 * Two members of one object whose names differ only in letter case ("amount", "Amount"): a
 * reader that matches names ignoring case (Go's encoding/json fills `Amount` from either, the
 * last one winning) would act on the other one (review s14 c). Folded as simple case folding
 * does, near enough: upper then lower case, so the Kelvin sign is k and the long s is s.
 */
function caseFoldedPair(parsed: unknown): FieldIssue | null {
  const stack: { value: unknown; path: (string | number)[] }[] = [{ value: parsed, path: [] }];
  while (stack.length > 0) {
    const { value, path } = stack.pop()!;
    if (value === null || typeof value !== 'object') continue;
    if (Array.isArray(value)) {
      value.forEach((item, index) => stack.push({ value: item, path: [...path, index] }));
      continue;
    }
    const seen = new Map<string, string>();
    for (const key of Object.keys(value)) {
      const folded = key.toUpperCase().toLowerCase();
      const first = seen.get(folded);
      if (first !== undefined) {
        return { field: [...path, key].join('.'), message: `the members "${first}" and "${key}" differ only in letter case: a reader matching names ignoring case could take either; send one` };
      }
      seen.set(folded, key);
      stack.push({ value: (value as Record<string, unknown>)[key], path: [...path, key] });
    }
  }
  return null;
}

/** Colons outside strings: one per object member in valid JSON. */
function membersInText(text: string): number {
  let members = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22 /* " */) i = stringEnd(text, i) - 1;
    else if (c === 0x3a /* : */) members++;
  }
  return members;
}

/** Members of every object in the parsed value. */
function membersKept(value: unknown): number {
  let members = 0;
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const v = stack.pop();
    if (v === null || typeof v !== 'object') continue;
    if (Array.isArray(v)) {
      for (const item of v) stack.push(item);
      continue;
    }
    for (const key of Object.keys(v)) {
      members++;
      stack.push((v as Record<string, unknown>)[key]);
    }
  }
  return members;
}

type Frame = { kind: 'object'; key: string | null; expectKey: boolean; seen: Set<string> } | { kind: 'array'; index: number };

/** Walks valid JSON, keeping the path to the current value, until a member named twice. */
function firstDuplicatePath(text: string): (string | number)[] | null {
  const stack: Frame[] = [];
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    const top = stack[stack.length - 1];
    if (c === 0x7b /* { */) stack.push({ kind: 'object', key: null, expectKey: true, seen: new Set() });
    else if (c === 0x5b /* [ */) stack.push({ kind: 'array', index: 0 });
    else if (c === 0x7d /* } */ || c === 0x5d /* ] */) stack.pop();
    else if (c === 0x2c /* , */) {
      if (top?.kind === 'object') top.expectKey = true;
      else if (top?.kind === 'array') top.index++;
    } else if (c === 0x3a /* : */) {
      if (top?.kind === 'object') top.expectKey = false;
    } else if (c === 0x22 /* " */) {
      const end = stringEnd(text, i);
      if (top?.kind === 'object' && top.expectKey) {
        // Compared as parsed: "a" and "\u0061" are the same member.
        const key = JSON.parse(text.slice(i, end)) as string;
        if (top.seen.has(key)) return [...stack.slice(0, -1).map((f) => (f.kind === 'array' ? f.index : (f.key ?? ''))), key];
        top.seen.add(key);
        top.key = key;
      }
      i = end - 1;
    }
  }
  return null;
}
