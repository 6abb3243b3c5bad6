import pg from 'pg';
import type { ActionRecord } from '@countersign/core';
import { OUTBOX_CHANNEL } from './gate-tx.ts';
import { toActionRecord, type ActionRow } from './rows.ts';
import { sqlBigintArray, sqlInt, type Sql } from './sql.ts';

/** A claimed event with its action's columns (all NULL when the action is gone). */
type ClaimedRow = Omit<ActionRow, 'id'> & { id: string | null; eventId: string; eventType: string; eventActionId: string; eventPayload: unknown; eventCreatedAt: Date };

// The queue engine's side of the transactional outbox: claim undispatched events, turn them
// into jobs, mark them dispatched. Plus what the sweeper reads to rebuild lost timers.

export interface OutboxEventRecord {
  /** BigInt id as a decimal string (it goes into job ids). */
  id: string;
  type: string;
  actionId: string;
  payload: unknown;
  createdAt: Date;
}

/** Returns the ids it handled; only those are marked dispatched. Throwing marks none. */
export type OutboxHandler = (events: OutboxEventRecord[], actions: Map<string, ActionRecord>) => Promise<string[]>;

export class PgOutboxStore {
  constructor(private readonly sql: Sql) {}

  /**
   * Claims up to `limit` undispatched events, oldest first, with FOR UPDATE SKIP LOCKED so that
   * dispatchers in several processes take disjoint rows, and marks dispatched what `handle`
   * returns, in the same transaction. Rows are therefore marked only after their jobs were
   * enqueued; a crash in between re-enqueues them later, which deterministic job ids make
   * harmless.
   *
   * Two round trips per batch (every escalation takes about two batches): BEGIN rides with the
   * claim, which reads each event's action in the same statement, and COMMIT rides with the
   * mark. The scripts hold only our own text and checked numbers.
   */
  async dispatchBatch(limit: number, handle: OutboxHandler, opts: { olderThanSeconds?: number } = {}): Promise<{ claimed: number; dispatched: number }> {
    const olderThan = sqlInt(opts.olderThanSeconds ?? 0, 0, 86_400 * 365);
    const batch = sqlInt(limit, 1, 10_000);
    return this.sql.scriptTransaction(async (tx) => {
      const [, claimed] = await tx.run(`BEGIN ISOLATION LEVEL READ COMMITTED;
        SELECT e.id::text AS "eventId", e.type AS "eventType", e."actionId" AS "eventActionId", e.payload AS "eventPayload", e."createdAt" AS "eventCreatedAt", a.*
        FROM "OutboxEvent" e LEFT JOIN "Action" a ON a.id = e."actionId"
        WHERE e."dispatchedAt" IS NULL AND e."createdAt" <= now() - make_interval(secs => ${olderThan})
        ORDER BY e.id
        LIMIT ${batch}
        FOR UPDATE OF e SKIP LOCKED`);
      const rows = (claimed?.rows ?? []) as ClaimedRow[];
      if (rows.length === 0) {
        await tx.run('COMMIT');
        return { claimed: 0, dispatched: 0 };
      }
      const actions = new Map<string, ActionRecord>();
      // An event whose action is gone has all of a.* NULL: absent from the map, which the
      // handler reports and skips.
      for (const r of rows) if (r.id !== null && !actions.has(r.id)) actions.set(r.id, toActionRecord(r as ActionRow));
      const events = rows.map((r) => ({ id: r.eventId, type: r.eventType, actionId: r.eventActionId, payload: r.eventPayload, createdAt: r.eventCreatedAt }));
      // Only what this batch claimed is ever marked, whatever the handler returns.
      const claimedIds = new Set(events.map((e) => e.id));
      const handled = (await handle(events, actions)).filter((id) => claimedIds.has(id));
      await tx.run(
        handled.length > 0
          ? `UPDATE "OutboxEvent" SET "dispatchedAt" = now() WHERE id = ANY(${sqlBigintArray(handled)}) AND "dispatchedAt" IS NULL; COMMIT`
          : 'COMMIT',
      );
      return { claimed: rows.length, dispatched: handled.length };
    });
  }

  /**
   * The trace context the action's first traced event carries (its submission's trace), or null:
   * a vote's span links to it. Only asked while tracing is on.
   */
  async traceOf(actionId: string): Promise<unknown> {
    const rows = await this.sql.query<{ trace: unknown }>`
      SELECT payload->'trace' AS trace FROM "OutboxEvent"
      WHERE "actionId" = ${actionId} AND payload->'trace' IS NOT NULL
      ORDER BY id
      LIMIT 1`;
    return rows[0]?.trace ?? null;
  }

  /** Undispatched events older than `seconds` (a dispatcher missed them: worth a warning). */
  async staleCount(seconds: number): Promise<number> {
    const rows = await this.sql.query<{ n: string }>`
      SELECT count(*) AS n FROM "OutboxEvent"
      WHERE "dispatchedAt" IS NULL AND "createdAt" < now() - make_interval(secs => ${seconds})`;
    return Number(rows[0]?.n ?? 0);
  }

  /**
   * Pending actions in id order after `afterId` (keyset paging for the sweeper), but not those
   * with an event still undispatched: their jobs are the dispatcher's to make, and may be under
   * way (a card job's first attempt runs before its event is marked).
   */
  async pendingActions(afterId: string | null, limit: number): Promise<ActionRecord[]> {
    // Two statements, not `($1 IS NULL OR a.id > $1)`: prepared (prepared-statements.ts), that
    // one's generic plan could not start the index scan at afterId, and every page would walk
    // the index from its first row.
    const rows =
      afterId === null
        ? await this.sql.query<ActionRow>`
            SELECT * FROM "Action" a WHERE a.status = 'pending'
              AND NOT EXISTS (SELECT 1 FROM "OutboxEvent" e WHERE e."actionId" = a.id AND e."dispatchedAt" IS NULL)
            ORDER BY a.id LIMIT ${limit}`
        : await this.sql.query<ActionRow>`
            SELECT * FROM "Action" a WHERE a.status = 'pending' AND a.id > ${afterId}
              AND NOT EXISTS (SELECT 1 FROM "OutboxEvent" e WHERE e."actionId" = a.id AND e."dispatchedAt" IS NULL)
            ORDER BY a.id LIMIT ${limit}`;
    return rows.map(toActionRecord);
  }
}

interface Logger {
  warn(obj: object, msg: string): void;
}

/**
 * LISTEN countersign_outbox on a connection of its own (PgGateTx.emit sends the NOTIFY in
 * the committing transaction) and calls `onEvent` for each notification, and once after every
 * (re)connect so that whatever was committed while we were deaf is picked up. Reconnects with
 * backoff; the dispatcher also polls, so a lost notification only costs latency.
 */
export class OutboxListener {
  private client: pg.Client | undefined;
  private closed = false;
  private retryMs = 100;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly databaseUrl: string,
    private readonly onEvent: () => void,
    private readonly log?: Logger,
  ) {}

  async start(): Promise<void> {
    const client = new pg.Client({ connectionString: this.databaseUrl });
    const lost = (why: string) => {
      if (this.client !== client) return;
      this.client = undefined;
      this.log?.warn({ why }, 'outbox listener connection lost; reconnecting');
      // The connection is already broken; `why` above is all there is to report.
      client.end().catch(() => undefined);
      this.scheduleReconnect();
    };
    client.on('notification', () => this.onEvent());
    client.on('error', (err) => lost(err.message));
    client.on('end', () => lost('connection ended'));
    await client.connect();
    await client.query(`LISTEN ${OUTBOX_CHANNEL}`);
    this.client = client;
    this.retryMs = 100;
    this.onEvent();
  }

  private scheduleReconnect(): void {
    if (this.closed || this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (this.closed) return;
      this.start().catch((err: Error) => {
        this.log?.warn({ err: err.message }, 'outbox listener reconnect failed');
        this.retryMs = Math.min(this.retryMs * 2, 5_000);
        this.scheduleReconnect();
      });
    }, this.retryMs);
    this.timer.unref();
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    const c = this.client;
    this.client = undefined;
    await c?.end();
  }
}
