import pg from 'pg';
import type { DecisionBus } from '@countersign/core';
import { DECISION_CHANNEL } from './gate-tx.ts';

interface Logger {
  warn(obj: object, msg: string): void;
}

/** Another channel heard on the bus's LISTEN connection (e.g. API key revocations). */
export interface BusChannelListener {
  readonly channel: string;
  notified(payload: string): void;
  /** LISTENing on `channel`: every notification committed from now on will arrive. */
  connected(): void;
  /** The connection is gone: notifications may be missed until `connected` is called again. */
  disconnected(): void;
}

/**
 * Long-poll wake-ups across processes: one LISTEN connection per process fans NOTIFYs out to
 * local waiters. If the connection drops, every waiter is woken to re-read (they see the true
 * state from Postgres), and we reconnect with backoff.
 */
export class PgDecisionBus implements DecisionBus {
  private client: pg.Client | undefined;
  private readonly waiters = new Map<string, Set<() => void>>();
  private closed = false;
  private retryMs = 100;
  private reconnecting = false;
  private readonly listeners: BusChannelListener[] = [];

  constructor(
    private readonly databaseUrl: string,
    private readonly log?: Logger,
  ) {}

  /** Adds a channel to listen on (before `start`); the listener hears of the connection's state. */
  listen(listener: BusChannelListener): void {
    if (listener.channel === DECISION_CHANNEL) throw new Error('the decision channel is the bus\'s own');
    if (!/^[a-z_][a-z0-9_]*$/.test(listener.channel)) throw new Error(`invalid channel name ${listener.channel}`);
    this.listeners.push(listener);
  }

  async start(): Promise<void> {
    const client = new pg.Client({ connectionString: this.databaseUrl });
    const lost = (why: string) => {
      if (this.client !== client) return;
      this.client = undefined;
      for (const l of this.listeners) l.disconnected();
      this.log?.warn({ why }, 'decision bus connection lost; reconnecting');
      client.end().catch(() => undefined); // already broken; nothing to report beyond `why`
      for (const id of [...this.waiters.keys()]) this.fire(id);
      this.scheduleReconnect();
    };
    client.on('notification', (msg) => {
      if (msg.channel === DECISION_CHANNEL) {
        if (msg.payload) this.fire(msg.payload);
        return;
      }
      for (const l of this.listeners) if (l.channel === msg.channel) l.notified(msg.payload ?? '');
    });
    client.on('error', (err) => lost(err.message));
    client.on('end', () => lost('connection ended'));
    await client.connect();
    await client.query(`LISTEN ${DECISION_CHANNEL}`);
    for (const l of this.listeners) await client.query(`LISTEN ${l.channel}`);
    if (this.closed) {
      // Closed while connecting: nobody will end this connection later.
      await client.end();
      return;
    }
    this.client = client;
    for (const l of this.listeners) l.connected();
  }

  private scheduleReconnect(): void {
    if (this.closed || this.reconnecting) return;
    this.reconnecting = true;
    setTimeout(() => {
      this.reconnecting = false;
      if (this.closed) return;
      this.start().then(
        () => {
          this.retryMs = 100;
          // Whoever began waiting while we were deaf may have missed their decision: they look
          // again (a long-poll reads the action and answers, or waits anew).
          for (const id of [...this.waiters.keys()]) this.fire(id);
        },
        (err: Error) => {
          this.log?.warn({ err: err.message }, 'decision bus reconnect failed');
          this.retryMs = Math.min(this.retryMs * 2, 5_000);
          this.scheduleReconnect();
        },
      );
    }, this.retryMs).unref();
  }

  private fire(actionId: string): void {
    const set = this.waiters.get(actionId);
    if (!set) return;
    this.waiters.delete(actionId);
    for (const cb of set) cb();
  }

  subscribe(actionId: string, onDecided: () => void): () => void {
    // Closed (the process is stopping): nobody will ever be notified, so a wait that starts
    // now is woken at once to answer what it reads, instead of holding the HTTP server's close
    // for its whole wait.
    if (this.closed) {
      queueMicrotask(onDecided);
      return () => undefined;
    }
    let set = this.waiters.get(actionId);
    if (!set) this.waiters.set(actionId, (set = new Set()));
    set.add(onDecided);
    return () => {
      const s = this.waiters.get(actionId);
      s?.delete(onDecided);
      if (s && s.size === 0) this.waiters.delete(actionId);
    };
  }

  get waiting(): number {
    let n = 0;
    for (const s of this.waiters.values()) n += s.size;
    return n;
  }

  async close(): Promise<void> {
    this.closed = true;
    const c = this.client;
    this.client = undefined;
    for (const l of this.listeners) l.disconnected();
    for (const id of [...this.waiters.keys()]) this.fire(id);
    await c?.end().catch(() => undefined);
  }
}
