import { pooledRandomBytes } from '@countersign/contracts';
import type { DeliveryClaim, DeliveryKind, DeliveryRow, DeliveryStore } from '@countersign/core';
import type { Sql } from './sql.ts';

// The Delivery table (see DeliveryStore in @countersign/core): every send claims its row in
// one conditional UPDATE first, so two workers never send at once and a delivered or failed
// row is never sent again. A claim whose worker died is taken over once its lease ran out.

export class PgDeliveryStore implements DeliveryStore {
  constructor(
    private readonly sql: Sql,
    /** How long a claim protects a send in flight (longer than any request may take). */
    private readonly leaseMs: number,
  ) {}

  async claim(input: { actionId: string; kind: DeliveryKind; url: string; idempotencyKey: string }): Promise<DeliveryClaim> {
    const id = `dlv_${pooledRandomBytes(12).toString('hex')}`;
    await this.sql.execute`
      INSERT INTO "Delivery" (id, "actionId", kind, url, "idempotencyKey", state, attempts)
      VALUES (${id}, ${input.actionId}, ${input.kind}, ${input.url}, ${input.idempotencyKey}, 'pending', 0)
      ON CONFLICT ("actionId", kind) DO NOTHING`;
    const leaseSeconds = this.leaseMs / 1000;
    const claimed = await this.sql.query<DeliveryRow>`
      UPDATE "Delivery"
         SET state = 'sending', attempts = attempts + 1, url = ${input.url}, "updatedAt" = now()
       WHERE "actionId" = ${input.actionId} AND kind = ${input.kind}
         AND (state = 'pending' OR (state = 'sending' AND "updatedAt" < now() - make_interval(secs => ${leaseSeconds}::double precision)))
      RETURNING *`;
    if (claimed[0]) return { claimed: true, row: claimed[0] };
    const row = await this.find(input.actionId, input.kind);
    if (!row) throw new Error(`delivery row for ${input.actionId}/${input.kind} vanished`);
    if (row.state === 'sending') {
      const leftMs = Math.max(1_000, row.updatedAt.getTime() + this.leaseMs - Date.now());
      return { claimed: false, busy: true, row, retryAfterMs: leftMs };
    }
    return { claimed: false, busy: false, row };
  }

  async failWithoutSending(input: { actionId: string; kind: DeliveryKind; url: string; idempotencyKey: string; error: string }): Promise<DeliveryRow> {
    const id = `dlv_${pooledRandomBytes(12).toString('hex')}`;
    await this.sql.execute`
      INSERT INTO "Delivery" (id, "actionId", kind, url, "idempotencyKey", state, attempts, "lastError")
      VALUES (${id}, ${input.actionId}, ${input.kind}, ${input.url}, ${input.idempotencyKey}, 'failed', 0, ${input.error})
      ON CONFLICT ("actionId", kind) DO UPDATE
         SET state = 'failed', "lastError" = EXCLUDED."lastError", "updatedAt" = now()
       WHERE "Delivery".state IN ('pending', 'sending')`;
    return (await this.find(input.actionId, input.kind))!;
  }

  async finish(row: DeliveryRow, result: { state: 'delivered' | 'failed' | 'pending'; responseStatus: number | null; error: string | null }): Promise<DeliveryRow> {
    const deliveredAt = result.state === 'delivered' ? new Date() : null;
    const updated = await this.sql.query<DeliveryRow>`
      UPDATE "Delivery"
         SET state = ${result.state}, "responseStatus" = ${result.responseStatus}, "lastError" = ${result.error},
             "deliveredAt" = ${deliveredAt}, "updatedAt" = now()
       WHERE id = ${row.id} AND state = 'sending' AND attempts = ${row.attempts}
      RETURNING *`;
    return updated[0] ?? (await this.find(row.actionId, row.kind as DeliveryKind))!;
  }

  async find(actionId: string, kind: DeliveryKind): Promise<DeliveryRow | null> {
    const rows = await this.sql.query<DeliveryRow>`SELECT * FROM "Delivery" WHERE "actionId" = ${actionId} AND kind = ${kind}`;
    return rows[0] ?? null;
  }
}
