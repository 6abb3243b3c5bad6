import { createHash } from 'node:crypto';
import canonicalizeModule from 'canonicalize';
import { DomainError } from '@countersign/contracts/errors';

// The package is CommonJS (`module.exports = fn`) while its typings declare an ES default
// export, so under NodeNext TypeScript sees a namespace. At runtime the default import is the
// function itself (Node and vitest); the fallback covers loaders that wrap it in `.default`.
type Canonicalize = (input: unknown) => string | undefined;
const canonicalize: Canonicalize =
  typeof canonicalizeModule === 'function'
    ? (canonicalizeModule as Canonicalize)
    : (canonicalizeModule as unknown as { default: Canonicalize }).default;

/**
 * RFC 8785 (JCS) canonical JSON. The `canonicalize` package does the serialisation; the guard
 * in front of it exists because that package silently emits broken text for some JavaScript
 * values (a nested function becomes the bare token `undefined`), and BigInt / NaN / lone
 * surrogates have no I-JSON form. Evidence must never be sealed over text that a third party
 * cannot reproduce, so anything outside I-JSON throws.
 */
export function canonicalJson(value: unknown): string {
  if (value === undefined) throw invalid('undefined has no JSON form');
  guard(value, '$', new Set());
  const text = canonicalize(value);
  if (text === undefined) throw invalid('value has no JSON form');
  return text;
}

/**
 * Canonicalise a value that came straight out of JSON.parse. Such values cannot hold
 * functions, BigInt or non-finite numbers, so the guard walk is skipped: this is the
 * verification hot path.
 */
export function canonicalJsonOfParsed(parsed: unknown): string {
  return canonicalize(parsed) ?? '';
}

export function sha256Hex(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** The hash a release token and every artifact bind to: sha256 of the intent's canonical JSON. */
export function intentHash(intent: unknown): string {
  return sha256Hex(canonicalJson(intent));
}

// In a /u regex a valid surrogate pair is one code point, so \p{Cs} only matches lone halves.
const LONE_SURROGATE = /\p{Cs}/u;

function guard(value: unknown, path: string, ancestors: Set<object>): void {
  switch (typeof value) {
    case 'string':
      if (LONE_SURROGATE.test(value)) throw invalid(`lone surrogate in string at ${path}`);
      return;
    case 'number':
      if (!Number.isFinite(value)) throw invalid(`non-finite number at ${path}`);
      return;
    case 'boolean':
      return;
    case 'bigint':
      throw invalid(`BigInt at ${path}`);
    case 'function':
    case 'symbol':
      throw invalid(`${typeof value} at ${path}`);
    case 'undefined':
      // Inside objects undefined members are dropped and inside arrays they become null,
      // exactly like JSON.stringify; the caller only reaches here for those positions.
      return;
    case 'object': {
      if (value === null) return;
      const toJSON = (value as { toJSON?: unknown }).toJSON;
      if (typeof toJSON === 'function') {
        guard(toJSON.call(value), path, ancestors);
        return;
      }
      if (ancestors.has(value)) throw invalid(`cycle at ${path}`);
      ancestors.add(value);
      if (Array.isArray(value)) {
        value.forEach((item, i) => guard(item, `${path}[${i}]`, ancestors));
      } else {
        for (const [key, item] of Object.entries(value)) {
          if (LONE_SURROGATE.test(key)) throw invalid(`lone surrogate in key at ${path}`);
          guard(item, `${path}.${key}`, ancestors);
        }
      }
      ancestors.delete(value);
      return;
    }
  }
}

function invalid(detail: string): DomainError {
  return new DomainError('internal', `cannot canonicalise: ${detail}`);
}
