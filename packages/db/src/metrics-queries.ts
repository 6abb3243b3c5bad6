import type { PrismaClient } from './generated/prisma/client.ts';

// What /metrics reads from Postgres at scrape time: one round trip, three index-backed
// sub-queries, so a scrape every few seconds from every process costs nothing worth noticing.

export interface BacklogSnapshot {
  /** Escalated actions not yet final. */
  pendingActions: number;
  /** When the oldest of them was submitted (the service's clock wrote it), null when none. */
  oldestPendingSince: Date | null;
  /** Age of the oldest undispatched outbox row by the database's clock (which wrote it); 0 when none. */
  outboxLagSeconds: number;
}

interface Row {
  pending: number;
  oldestPendingSince: Date | null;
  outboxLagSeconds: number | null;
}

export class PrismaMetricsQueries {
  constructor(private readonly prisma: PrismaClient) {}

  /**
   * Pending rows come from the (status, expiresAt) index, and only pending rows are read for
   * their age (few by nature: they wait for people). The oldest undispatched outbox row is the
   * first entry of the (dispatchedAt, id) index: ids grow with time, so it is also the oldest.
   */
  async backlog(): Promise<BacklogSnapshot> {
    const [row] = await this.prisma.$queryRaw<Row[]>`
      SELECT
        (SELECT count(*) FROM "Action" WHERE status = 'pending')::int AS "pending",
        (SELECT min("createdAt") FROM "Action" WHERE status = 'pending') AS "oldestPendingSince",
        (SELECT extract(epoch FROM now() - "createdAt")::float8 FROM "OutboxEvent"
          WHERE "dispatchedAt" IS NULL ORDER BY id LIMIT 1) AS "outboxLagSeconds"`;
    return {
      pendingActions: row?.pending ?? 0,
      oldestPendingSince: row?.oldestPendingSince ?? null,
      outboxLagSeconds: Math.max(0, row?.outboxLagSeconds ?? 0),
    };
  }
}
