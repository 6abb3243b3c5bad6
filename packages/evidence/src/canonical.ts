import { createHash } from 'node:crypto';
import canonicalizeModule from 'canonicalize';
import { DomainError } from '@countersign/contracts/errors';
import { NotCanonical, writeCanonical } from './canonical-writer.ts';

// The package is CommonJS (`module.exports = fn`) while its typings declare an ES default
// export, so under NodeNext TypeScript sees a namespace. At runtime the default import is the
// function itself (Node and vitest); the fallback covers loaders that wrap it in `.default`.
type Canonicalize = (input: unknown) => string | undefined;
const canonicalize: Canonicalize =
  typeof canonicalizeModule === 'function'
    ? (canonicalizeModule as Canonicalize)
    : (canonicalizeModule as unknown as { default: Canonicalize }).default;

/**
 * RFC 8785 (JCS) canonical JSON. Anything outside I-JSON (BigInt, NaN, functions, symbols, lone
 * surrogates, cycles, arrays with holes) throws: evidence must never be sealed over text that a
 * third party cannot reproduce. One walk checks and writes (canonical-writer.ts); its text is
 * the `canonicalize` package's, which verification and the SDK use.
 */
export function canonicalJson(value: unknown): string {
  if (value === undefined) throw invalid('undefined has no JSON form');
  let text: string | undefined;
  try {
    text = writeCanonical(value);
  } catch (err) {
    if (err instanceof NotCanonical) throw invalid(err.message);
    throw err;
  }
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

function invalid(detail: string): DomainError {
  return new DomainError('internal', `cannot canonicalise: ${detail}`);
}
