import { createHash } from 'node:crypto';
import canonicalizeModule from 'canonicalize';
import type { IntentInput } from './types.ts';

// A release token binds the SHA-256 of the RFC 8785 canonical JSON of the intent *as the server
// normalised it*: every section present with its defaults, free-text fields trimmed. A
// downstream service holds the intent the agent sent, so it must apply the same normalisation
// before hashing. A test in the repository checks this against the server's own schema.

type Canonicalize = (input: unknown) => string | undefined;
// The package is CommonJS with an ES-style default in its typings: take whichever is callable.
const canonicalize: Canonicalize =
  typeof canonicalizeModule === 'function'
    ? (canonicalizeModule as Canonicalize)
    : (canonicalizeModule as unknown as { default: Canonicalize }).default;

type Json = Record<string, unknown>;

/** The intent as the server stores and hashes it. Unknown keys are kept (the server refuses them). */
export function normaliseIntent(intent: IntentInput): Json {
  const input = intent as unknown as Json;
  const action = (input.action ?? {}) as Json;
  const out: Json = {
    ...input,
    action: withDefaults(trimmed(action, ['resource', 'summary']), { params: {} }),
    context: withDefaults(trimmed(sectionOf(input.context), ['environment', 'account', 'jurisdiction', 'matter']), { attributes: {} }),
    risk: trimmed(sectionOf(input.risk), ['class']),
    authority: withDefaults(trimmed(sectionOf(input.authority), ['changeTicket', 'clientInstruction', 'regulation', 'reference']), { attributes: {} }),
  };
  if (typeof input.onBehalfOf === 'string') out.onBehalfOf = input.onBehalfOf.trim();
  if (typeof input.justification === 'string') out.justification = input.justification.trim();
  return withoutUndefined(out) as Json;
}

/** RFC 8785 canonical JSON. Throws for values JSON cannot represent (functions, BigInt, NaN, cycles). */
export function canonicalJson(value: unknown): string {
  assertJson(value, '$', new Set());
  const text = canonicalize(value);
  if (text === undefined) throw new TypeError('value has no JSON form');
  return text;
}

/** sha256 hex of the canonical normalised intent: what `intent_sha256` in a release token must equal. */
export function intentHash(intent: IntentInput): string {
  return createHash('sha256').update(canonicalJson(normaliseIntent(intent)), 'utf8').digest('hex');
}

function sectionOf(value: unknown): Json {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Json) : {};
}

function trimmed(section: Json, keys: string[]): Json {
  const out = { ...section };
  for (const key of keys) if (typeof out[key] === 'string') out[key] = (out[key] as string).trim();
  return out;
}

function withDefaults(section: Json, defaults: Json): Json {
  const out = { ...section };
  for (const [key, value] of Object.entries(defaults)) if (out[key] === undefined) out[key] = value;
  return out;
}

function withoutUndefined(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutUndefined);
  if (value === null || typeof value !== 'object') return value;
  const out: Json = {};
  for (const [key, item] of Object.entries(value)) if (item !== undefined) out[key] = withoutUndefined(item);
  return out;
}

// The canonicalize package emits broken text for some JavaScript values instead of failing;
// a hash over such text could never match the server's, so refuse them up front.
function assertJson(value: unknown, path: string, ancestors: Set<object>): void {
  switch (typeof value) {
    case 'number':
      if (!Number.isFinite(value)) throw new TypeError(`non-finite number at ${path}`);
      return;
    case 'bigint':
    case 'function':
    case 'symbol':
      throw new TypeError(`${typeof value} at ${path} has no JSON form`);
    case 'object': {
      if (value === null) return;
      if (typeof (value as { toJSON?: unknown }).toJSON === 'function') return;
      if (ancestors.has(value)) throw new TypeError(`cycle at ${path}`);
      ancestors.add(value);
      if (Array.isArray(value)) value.forEach((item, i) => assertJson(item, `${path}[${i}]`, ancestors));
      else for (const [key, item] of Object.entries(value)) assertJson(item, `${path}.${key}`, ancestors);
      ancestors.delete(value);
      return;
    }
    default:
      return;
  }
}
