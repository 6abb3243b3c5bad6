import pg from 'pg';
import type { DecisionBus } from '@countersign/core';
import { DECISION_CHANNEL } from './gate-tx.ts';

interface Logger {
  warn(obj: object, msg: string): void;
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

  constructor(
    private readonly databaseUrl: string,
    private readonly log?: Logger,
  ) {}

  async start(): Promise<void> {
    const client = new pg.Client({ connectionString: this.databaseUrl });
    const lost = (why: string) => {
      if (this.client !== client) return;
      this.client = undefined;
      this.log?.warn({ why }, 'decision bus connection lost; reconnecting');
      client.end().catch(() => undefined); // already broken; nothing to report beyond `why`
      for (const id of [...this.waiters.keys()]) this.fire(id);
      this.scheduleReconnect();
    };
    client.on('notification', (msg) => {
      if (msg.payload) this.fire(msg.payload);
    });
    client.on('error', (err) => lost(err.message));
    client.on('end', () => lost('connection ended'));
    await client.connect();
    await client.query(`LISTEN ${DECISION_CHANNEL}`);
    this.client = client;
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
    for (const id of [...this.waiters.keys()]) this.fire(id);
    await c?.end().catch(() => undefined);
  }
}
