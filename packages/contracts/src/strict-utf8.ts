// Request bodies are read as strict UTF-8: invalid bytes are refused, never replaced by
// U+FFFD. Replacement would store, hash and show approvers text nobody sent (an intent whose
// hash a downstream cannot recompute, a vote reason nobody typed). A leading byte order mark is
// dropped (RFC 8259 lets a parser do so); it is not part of any value.

const STRICT_UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

/** The `charset` parameter of a Content-Type header, lower-cased, or undefined when absent. */
export function charsetOf(contentType: string | undefined): string | undefined {
  const match = /;\s*charset\s*=\s*(?:"([^"]*)"|([^;\s]*))/i.exec(contentType ?? '');
  return match ? (match[1] ?? match[2] ?? '').toLowerCase() : undefined;
}

/**
 * A body's text, or why not: `charset` when the Content-Type declares a charset other than
 * UTF-8 (decoding Latin-1 as UTF-8 silently alters it), `bytes` when they are not valid UTF-8.
 */
export function strictUtf8Body(body: Uint8Array, contentType: string | undefined): { text: string } | { refused: 'charset' | 'bytes' } {
  const charset = charsetOf(contentType);
  if (charset !== undefined && charset !== 'utf-8' && charset !== 'utf8') return { refused: 'charset' };
  try {
    return { text: STRICT_UTF8.decode(body) };
  } catch {
    return { refused: 'bytes' };
  }
}
