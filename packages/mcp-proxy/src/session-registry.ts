import type { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';

// The HTTP listener's sessions. Clients rarely end theirs (DELETE), so without a bound a client
// that initializes in a loop grows the proxy's memory without end. At the bound, the session
// least recently active with no request in flight (no held call, no open stream) makes room.

interface Entry {
  transport: StreamableHTTPServerTransport;
  inFlight: number;
}

export class SessionRegistry {
  /** In order of last activity, oldest first (an entry is moved to the end when used). */
  private readonly sessions = new Map<string, Entry>();

  constructor(private readonly max: number) {}

  get(id: string): StreamableHTTPServerTransport | undefined {
    return this.sessions.get(id)?.transport;
  }

  add(id: string, transport: StreamableHTTPServerTransport): void {
    this.sessions.set(id, { transport, inFlight: 0 });
  }

  delete(id: string): void {
    this.sessions.delete(id);
  }

  transports(): StreamableHTTPServerTransport[] {
    return [...this.sessions.values()].map((entry) => entry.transport);
  }

  /** A request of this session starts: it is the most recent, and busy until `done`. */
  begin(id: string): () => void {
    const entry = this.sessions.get(id);
    if (!entry) return () => undefined;
    this.sessions.delete(id);
    this.sessions.set(id, entry);
    entry.inFlight++;
    let ended = false;
    return () => {
      if (ended) return;
      ended = true;
      entry.inFlight--;
    };
  }

  /** Room for one more session: closes the oldest idle one at the bound; false when all are busy. */
  async makeRoom(): Promise<boolean> {
    if (this.sessions.size < this.max) return true;
    for (const [id, entry] of this.sessions) {
      if (entry.inFlight > 0) continue;
      this.sessions.delete(id);
      await entry.transport.close().catch(() => undefined);
      return true;
    }
    return false;
  }
}
