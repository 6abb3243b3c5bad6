import { DomainError, strictUtf8Body } from '@countersign/contracts';

// The console's form posts (application/x-www-form-urlencoded), read strictly. URLSearchParams
// and Fastify's string reading replace invalid UTF-8 (raw bytes or %FF escapes) with U+FFFD, so
// a vote's reason would be stored, sealed into its artifact and shown as text nobody typed; and
// a NUL reached Postgres, which cannot hold one (a 500). Browsers always send valid UTF-8 with
// every `%` escaped, so being strict here refuses only hand-made requests.

function refuse(field: string, message: string): DomainError {
  return new DomainError('invalid_request', `The form is not valid: ${message}.`, { issues: [{ field, message }] });
}

/** A form body's fields (the last value of a repeated name wins, as before), or the problem. */
export function parseFormBody(body: Buffer, contentType: string | undefined): Record<string, string> | DomainError {
  const read = strictUtf8Body(body, contentType);
  if ('refused' in read) {
    return read.refused === 'charset' ? new DomainError('unsupported_media_type', 'The form must be sent in UTF-8.') : refuse('(body)', 'bytes that are not valid UTF-8');
  }
  const text = read.text;
  const fields: Record<string, string> = {};
  for (const pair of text.split('&')) {
    if (pair === '') continue;
    const at = pair.indexOf('=');
    const [rawName, rawValue] = at === -1 ? [pair, ''] : [pair.slice(0, at), pair.slice(at + 1)];
    let name: string;
    let value: string;
    try {
      // decodeURIComponent throws on a malformed escape or escaped bytes that are not UTF-8.
      name = decodeURIComponent(rawName.replace(/\+/g, ' '));
      value = decodeURIComponent(rawValue.replace(/\+/g, ' '));
    } catch {
      return refuse('(body)', 'an escape that is not valid UTF-8');
    }
    if (name.includes('\u0000') || value.includes('\u0000')) return refuse(name.replace(/\u0000/g, ''), 'text containing a NUL character');
    fields[name] = value;
  }
  return fields;
}
