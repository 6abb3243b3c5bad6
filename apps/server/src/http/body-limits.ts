import { DomainError, strictUtf8Body, type ErrorCode, type FieldIssue } from '@countersign/contracts';

// Limits every JSON body must meet before anything reaches the engine. The body limit alone is
// not enough: 36 KB of `[[[[…` nests 6,000 levels deep and overflowed the stack of whichever
// code walked it next (canonical JSON while a whole group-commit batch was sealed, failing
// other agents' submissions). So the shape is bounded here, once, at the edge, for every route;
// past this point code may recurse over a body without fear. Intents are small by contract
// (SPEC: "a minimal description of the action, never the raw business content").

export interface BodyLimits {
  /** Deepest nesting of objects and arrays; the body itself is depth 1. */
  maxDepth: number;
  /** Keys of all objects plus items of all arrays, added up over the whole body. */
  maxEntries: number;
  /** Longest string, in UTF-16 code units, for keys and values alike. */
  maxStringLength: number;
}

export const DEFAULT_BODY_LIMITS: BodyLimits = Object.freeze({
  maxDepth: 16,
  maxEntries: 2_000,
  maxStringLength: 16_384,
});

/** Where a value sits, as the dotted path the API reports (`action.params.0.iban`). */
function fieldOf(path: readonly (string | number)[]): string {
  return path.length === 0 ? '(body)' : path.join('.');
}

// With the u flag a well-formed surrogate pair is one code point, so only lone halves match.
const LONE_SURROGATE = /\p{Cs}/u;

/** Why a string cannot be stored and shown as text, or null when it can. */
function stringProblem(value: string, limits: BodyLimits): string | null {
  if (value.length > limits.maxStringLength) return `text longer than ${limits.maxStringLength} characters`;
  // A lone surrogate (`"\ud800"`) is valid JSON but not Unicode: Postgres refuses it, canonical
  // JSON cannot encode it, and a card would render garbage.
  if (LONE_SURROGATE.test(value)) return 'text that is not valid Unicode (a lone surrogate)';
  // Postgres text cannot hold NUL, and NUL truncates strings in C-based tools downstream.
  if (value.includes('\u0000')) return 'text containing a NUL character';
  return null;
}

/**
 * The first way `body` breaks the limits, as a field-precise issue, or null. Iterative (an
 * explicit stack), so it never recurses however the body is shaped; JSON.parse itself is
 * iterative in V8, so neither step can overflow.
 */
export function bodyLimitIssue(body: unknown, limits: BodyLimits = DEFAULT_BODY_LIMITS): FieldIssue | null {
  let entries = 0;
  const stack: { value: unknown; path: (string | number)[] }[] = [{ value: body, path: [] }];
  while (stack.length > 0) {
    const { value, path } = stack.pop()!;
    if (typeof value === 'string') {
      const problem = stringProblem(value, limits);
      if (problem) return { field: fieldOf(path), message: problem };
      continue;
    }
    if (typeof value === 'number') {
      // JSON has no Infinity, but `1e400` parses to it: refuse rather than store "null".
      if (!Number.isFinite(value)) return { field: fieldOf(path), message: 'a number that is not finite' };
      continue;
    }
    if (value === null || typeof value !== 'object') continue;
    if (path.length + 1 > limits.maxDepth) {
      return { field: fieldOf(path), message: `nested deeper than ${limits.maxDepth} levels` };
    }
    const children: [string | number, unknown][] = Array.isArray(value)
      ? value.map((item, index) => [index, item])
      : Object.entries(value as Record<string, unknown>);
    entries += children.length;
    if (entries > limits.maxEntries) {
      return { field: fieldOf(path), message: `more than ${limits.maxEntries} keys and items in the whole body` };
    }
    for (const [key, child] of children) {
      const childPath = [...path, key];
      if (typeof key === 'string') {
        const problem = stringProblem(key, limits);
        if (problem) return { field: fieldOf(childPath), message: `a key with ${problem}` };
      }
      stack.push({ value: child, path: childPath });
    }
  }
  return null;
}

/**
 * A JSON body's bytes as text, or the problem to answer: 415 for a declared charset other
 * than UTF-8 (JSON is UTF-8 by RFC 8259; decoding Latin-1 as UTF-8 silently altered it), 400
 * (`invalidCode`: invalid_intent on the intent route) for bytes that are not valid UTF-8.
 */
export function jsonBodyText(body: Buffer, contentType: string | undefined, invalidCode: Extract<ErrorCode, 'invalid_intent' | 'invalid_request'>): string | DomainError {
  const read = strictUtf8Body(body, contentType);
  if ('text' in read) return read.text;
  if (read.refused === 'charset') return new DomainError('unsupported_media_type', 'The request body must be JSON in UTF-8 (charset=utf-8 or no charset).');
  return new DomainError(invalidCode, 'The request body is not valid UTF-8.', { issues: [{ field: '(body)', message: 'bytes that are not valid UTF-8' }] });
}
