// Resource subscriptions per client session. Over HTTP every session shares one upstream
// connection, so one upstream subscription per URI: updates go to the sessions that subscribed,
// and the upstream is told to unsubscribe only when the last of them does.

export class Subscriptions<Session> {
  private readonly bySession = new Map<Session, Set<string>>();

  subscribe(session: Session, uri: string): void {
    let uris = this.bySession.get(session);
    if (!uris) this.bySession.set(session, (uris = new Set()));
    uris.add(uri);
  }

  /** True when no session holds `uri` any more: the upstream subscription can end. */
  unsubscribe(session: Session, uri: string): boolean {
    this.bySession.get(session)?.delete(uri);
    return this.holders(uri).length === 0;
  }

  /** The sessions subscribed to `uri`. */
  holders(uri: string): Session[] {
    return [...this.bySession].filter(([, uris]) => uris.has(uri)).map(([session]) => session);
  }

  /** A session that ended holds nothing (its URIs stay subscribed upstream; updates reach no one). */
  drop(session: Session): void {
    this.bySession.delete(session);
  }
}
