import { createHash } from 'node:crypto';
import canonicalizeModule from 'canonicalize';
import type { IntentInput } from './types.ts';

// A release token binds the SHA-256 of the RFC 8785 canonical JSON of the intent *as the server
// normalised it*: every section present with its defaults, free-text fields trimmed. A
// downstream service holds the intent the agent sent, so it must apply the same normalisation
// before hashing. This is the one implementation: the server's intent schema normalises with
// normaliseIntent before it validates, so the two can never drift apart.

type Canonicalize = (input: unknown) => string | undefined;
// The package is CommonJS with an ES-style default in its typings: take whichever is callable.
const canonicalize: Canonicalize =
  typeof canonicalizeModule === 'function'
    ? (canonicalizeModule as Canonicalize)
    : (canonicalizeModule as unknown as { default: Canonicalize }).default;

type Json = Record<string, unknown>;

/**
 * The intent as the server stores and hashes it: `action.params`, `context`, `authority` and
 * their `attributes`, and `risk` defaulted; free-text fields trimmed; undefined members dropped
 * and `toJSON()` applied, as JSON carries them. What it cannot read as an intent (unknown keys,
 * a section that is not an object) it leaves as it is, for the server to refuse by name.
 */
export function normaliseIntent(intent: IntentInput): Json {
  const input = asJson(intent) as Json;
  if (!isObject(input)) return input;
  const out: Json = { ...input };
  if (isObject(input.action)) out.action = withDefaults(trimmed(input.action, ['resource', 'summary']), { params: {} });
  out.context = section(input.context, ['environment', 'account', 'jurisdiction', 'matter'], { attributes: {} });
  out.risk = section(input.risk, ['class'], {});
  out.authority = section(input.authority, ['changeTicket', 'clientInstruction', 'regulation', 'reference'], { attributes: {} });
  if (typeof input.onBehalfOf === 'string') out.onBehalfOf = input.onBehalfOf.trim();
  if (typeof input.justification === 'string') out.justification = input.justification.trim();
  return out;
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

function isObject(value: unknown): value is Json {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** An absent section becomes its default; an object is trimmed and defaulted; anything else stays. */
function section(value: unknown, trim: string[], defaults: Json): unknown {
  if (value === undefined) return { ...defaults };
  return isObject(value) ? withDefaults(trimmed(value, trim), defaults) : value;
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

/** The value as JSON.stringify would send it: toJSON() applied, undefined members dropped. */
function asJson(value: unknown, ancestors = new Set<object>()): unknown {
  if (value === null || typeof value !== 'object') return value;
  const toJSON = (value as { toJSON?: unknown }).toJSON;
  if (typeof toJSON === 'function') return asJson(toJSON.call(value), ancestors);
  if (ancestors.has(value)) throw new TypeError('cycle in the intent');
  ancestors.add(value);
  const out = Array.isArray(value)
    ? value.map((item) => asJson(item, ancestors))
    : Object.fromEntries(Object.entries(value).flatMap(([key, item]) => (item === undefined ? [] : [[key, asJson(item, ancestors)]])));
  ancestors.delete(value);
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
