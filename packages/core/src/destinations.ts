// Outbound destinations (webhook callbacks, held execution) must be allowed by configuration:
// a caller-supplied URL is otherwise a way to make countersign call anything it can reach.
// No entry, no destination: fail closed. Entries are exact:
//   https://hooks.example.com            an origin: that scheme, host and port, any path
//   https://hooks.example.com/countersign a prefix ending at a path boundary: /countersign and
//                                         /countersign/… match, /countersign-evil does not
//   https://*.example.com                 any subdomain's origin (not example.com itself)
//   hooks.example.com, *.example.com      shorthand for the https:// forms above
// Plain http:// matches only entries that say http:// themselves. An allowed *name* must also
// resolve to public addresses (checked where the request is sent, see addressAllowed); an
// entry that names an address literally (http://127.0.0.1:9000) allows exactly that address.

export interface DestinationPolicy {
  /** Null when the URL is allowed; otherwise why not, never echoing the allow-list. */
  check(url: string): string | null;
  allows(url: string): boolean;
  /** How many entries there are (0: nothing is allowed). */
  readonly size: number;
}

interface Entry {
  protocol: 'https:' | 'http:';
  /** Exact host, or the suffix after `*` (".example.com") when wildcard. */
  host: string;
  wildcard: boolean;
  port: string;
  /** Path prefix without a trailing slash ('' for an origin entry). */
  path: string;
}

export class DestinationEntryError extends Error {
  constructor(entry: string, why: string) {
    super(`allow-list entry "${entry}": ${why}`);
    this.name = 'DestinationEntryError';
  }
}

function parseEntry(raw: string): Entry {
  const text = raw.trim();
  const withScheme = text.includes('://') ? text : `https://${text}`;
  const wildcard = /^https?:\/\/\*\./i.test(withScheme);
  let url: URL;
  try {
    url = new URL(wildcard ? withScheme.replace('*.', 'wildcard.') : withScheme);
  } catch {
    throw new DestinationEntryError(raw, 'not a URL, origin or host name');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new DestinationEntryError(raw, 'only https:// (or an explicit http://) is allowed');
  if (url.username || url.password) throw new DestinationEntryError(raw, 'credentials are not allowed in an entry');
  if (url.search || url.hash) throw new DestinationEntryError(raw, 'an entry is an origin or a path prefix, without query or fragment');
  const host = wildcard ? url.hostname.slice('wildcard'.length) : url.hostname;
  return { protocol: url.protocol, host, wildcard, port: url.port, path: url.pathname.replace(/\/+$/, '') };
}

function matches(entry: Entry, url: URL): boolean {
  if (url.protocol !== entry.protocol || url.port !== entry.port) return false;
  const host = url.hostname;
  // A wildcard names subdomains: it never matches an IP literal ("*.0.0.1" is not 127.0.0.1).
  const literal = /^\d+\.\d+\.\d+\.\d+$/.test(host) || host.startsWith('[');
  if (entry.wildcard ? literal || !(host.endsWith(entry.host) && host.length > entry.host.length) : host !== entry.host) return false;
  return entry.path === '' || url.pathname === entry.path || url.pathname.startsWith(`${entry.path}/`);
}

/** Parses every entry up front: a malformed entry is a configuration error, never ignored. */
export function destinationAllowlist(entries: readonly string[]): DestinationPolicy {
  const parsed = entries.filter((e) => e.trim() !== '').map(parseEntry);
  const check = (raw: string): string | null => {
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      return 'not a valid URL';
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') return 'only https:// destinations are allowed';
    if (url.username || url.password) return 'credentials in the URL are not allowed';
    if (parsed.length === 0) return 'no destinations are allowed on this server';
    if (parsed.some((e) => matches(e, url))) return null;
    // Only say "http" when https would have been allowed: otherwise it is simply not allowed.
    if (url.protocol === 'http:') {
      const secure = new URL(url.href);
      secure.protocol = 'https:';
      if (parsed.some((e) => matches(e, secure))) return 'plain http:// is not allowed for this destination; use https://';
    }
    return 'not an allowed destination';
  };
  return { check, allows: (url) => check(url) === null, size: parsed.length };
}

/**
 * Whether a connection to `address` (what the URL's host resolved to) is allowed. Public
 * addresses are. Loopback, private, link-local, unique-local, CGNAT and unspecified ones only
 * when the URL names that very address (an entry allowed it literally), so an allowed name
 * cannot be pointed — by DNS, now or later — at the service's own network.
 */
export function addressAllowed(urlHost: string, address: string): boolean {
  const host = urlHost.replace(/^\[|\]$/g, '').toLowerCase();
  if (host === address.toLowerCase()) return true;
  return !isInternalAddress(address);
}

/** Addresses that reach this machine or its private networks rather than the internet. */
export function isInternalAddress(address: string): boolean {
  const a = address.toLowerCase();
  const v4 = /^(?:::ffff:)?(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(a);
  if (v4) {
    const [b0, b1] = [Number(v4[1]), Number(v4[2])];
    return (
      b0 === 0 || b0 === 10 || b0 === 127 ||
      (b0 === 169 && b1 === 254) ||
      (b0 === 172 && b1 >= 16 && b1 <= 31) ||
      (b0 === 192 && b1 === 168) ||
      (b0 === 100 && b1 >= 64 && b1 <= 127) ||
      b0 >= 224
    );
  }
  if (!a.includes(':')) return true; // not an address we can classify: fail closed
  return a === '::' || a === '::1' || /^f[cd]/.test(a) || /^fe[89ab]/.test(a) || /^ff/.test(a);
}
