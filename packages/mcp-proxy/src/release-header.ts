import { AsyncLocalStorage } from 'node:async_hooks';

type Fetch = (input: string | URL | Request, init?: RequestInit) => Promise<Response>;

/**
 * Puts the release token of the call being forwarded into an HTTP header of the upstream
 * request that carries it. The MCP client sends from within the forwarding call's async
 * context, so the token follows that one request and no other.
 */
export class ReleaseHeader {
  private readonly current = new AsyncLocalStorage<string>();
  constructor(readonly header: string) {}

  run<T>(token: string, fn: () => Promise<T>): Promise<T> {
    return this.current.run(token, fn);
  }

  /** A fetch for the upstream transport: adds the header when a token is in scope. */
  wrap(inner: Fetch = globalThis.fetch): Fetch {
    return (input, init) => {
      const token = this.current.getStore();
      if (token === undefined) return inner(input, init);
      const headers = new Headers(init?.headers);
      headers.set(this.header, token);
      return inner(input, { ...init, headers });
    };
  }
}
