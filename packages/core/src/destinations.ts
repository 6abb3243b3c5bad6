// Outbound destinations (webhook callbacks, held execution) must be allowed by configuration:
// a caller-supplied URL is otherwise a way to make countersign call anything it can reach.
// Entries are URL prefixes ("https://hooks.example.com/countersign/") or host names
// ("ci.example.com", "*.example.com"). No entry, no destination: fail closed.

export interface DestinationPolicy {
  allows(url: string): boolean;
  describe(): string;
}

export function destinationAllowlist(entries: string[]): DestinationPolicy {
  const prefixes = entries.filter((e) => e.includes('://')).map((e) => new URL(e).href);
  const hosts = entries.filter((e) => !e.includes('://')).map((e) => e.toLowerCase());
  return {
    allows(raw: string): boolean {
      let url: URL;
      try {
        url = new URL(raw);
      } catch {
        return false;
      }
      if (url.protocol !== 'https:' && url.protocol !== 'http:') return false;
      if (url.username || url.password) return false;
      if (prefixes.some((p) => url.href.startsWith(p))) return true;
      const host = url.hostname.toLowerCase();
      return hosts.some((h) => (h.startsWith('*.') ? host.endsWith(h.slice(1)) : host === h));
    },
    describe: () => (entries.length ? entries.join(', ') : '(none configured)'),
  };
}
