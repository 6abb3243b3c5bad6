import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IntentSchema, randomId, type GateEvent, type Intent } from '@countersign/contracts';
import type { ActionRecord, NewActionWrite } from '@countersign/core';
import { generateSigningKey, intentHash, Keyring, sha256Hex } from '@countersign/evidence';
import { createPrismaClient, sqlOf, type PrismaClient } from '../src/client.ts';
import { sqlBigintArray, sqlInt } from '../src/sql.ts';
import { PgGateStore } from '../src/gate-store.ts';
import { PgOutboxStore, type OutboxEventRecord } from '../src/outbox-store.ts';
import { freshDatabase, type TestDatabase } from '../../../test/support/database.ts';

// The outbox claim (PgOutboxStore.dispatchBatch, two round trips with BEGIN and COMMIT folded
// into its scripts) on a real Postgres: dispatchers racing take disjoint events and each event
// is marked once; a handler that throws marks nothing and leaves the connection clean; an
// event whose action is gone comes without one; only what the handler returns is marked.

const keyring = new Keyring([generateSigningKey()]);
let db: TestDatabase;
let prisma: PrismaClient;
let gate: PgGateStore;
let outbox: PgOutboxStore;

beforeAll(async () => {
  db = await freshDatabase();
  prisma = createPrismaClient(db.url, { max: 6 });
  gate = new PgGateStore(sqlOf(prisma), keyring);
  outbox = new PgOutboxStore(sqlOf(prisma));
});
afterAll(async () => {
  await prisma?.$disconnect();
  await db?.drop();
});

function escalation(): NewActionWrite {
  const intent: Intent = IntentSchema.parse({ action: { type: 'environment.delete', resource: 'env/x' }, risk: { class: 'destructive' } });
  const at = new Date();
  const id = randomId('act');
  const hash = intentHash(intent);
  const requirement = { groups: [{ role: 'sre-lead', count: 1 }], expiresInSeconds: 600, channels: [] };
  const action: ActionRecord = {
    id, status: 'pending', outcome: 'escalate', actorId: 'deploy-bot', actorKind: 'agent', ownerId: 'alice', onBehalfOf: null, apiKeyId: 'key_test',
    intent, intentHash: hash, actionType: intent.action.type, policyDigest: sha256Hex('policy'), ruleIds: ['r'], reasons: ['destructive'],
    requirement: requirement as unknown as ActionRecord['requirement'], overrideRoles: [], expiresAt: new Date(at.getTime() + 600_000), createdAt: at,
    decidedAt: null, decidedBy: null, decisionReason: null, overriddenBy: null, overrideReason: null, idempotencyKey: null, requestHash: sha256Hex(id),
  };
  const events: GateEvent[] = [{ type: 'action.escalated', actionId: id }];
  const actor = { kind: 'agent' as const, id: 'deploy-bot' };
  return {
    action,
    events,
    artifact: { kind: 'action.escalated', actionId: id, intentHash: hash, actionType: action.actionType, actor, onBehalfOf: null, owner: 'alice', policyDigest: action.policyDigest, ruleIds: action.ruleIds, reasons: action.reasons, requirement, expiresAt: action.expiresAt!.toISOString() },
  };
}

async function undispatched(): Promise<number> {
  return prisma.outboxEvent.count({ where: { dispatchedAt: null } });
}

describe('outbox dispatch (claim, enqueue, mark)', () => {
  it('an escalation committed by the group writer wakes the dispatcher (NOTIFY on countersign_outbox, once it commits)', async () => {
    const listener = new pg.Client({ connectionString: db.url });
    await listener.connect();
    try {
      const heard: string[] = [];
      listener.on('notification', (n) => heard.push(n.payload ?? ''));
      await listener.query('LISTEN countersign_outbox');
      const writes = [escalation(), escalation()];
      await Promise.all(writes.map((w) => gate.insertNewAction(w)));
      const deadline = Date.now() + 5_000;
      while (heard.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      expect(heard.sort()).toEqual(writes.map((w) => w.action.id).sort());
      await outbox.dispatchBatch(10, async (events) => events.map((e) => e.id));
    } finally {
      await listener.end();
    }
  });

  it('hands each event to exactly one of several racing dispatchers, with its action', async () => {
    const writes = Array.from({ length: 60 }, escalation);
    for (const w of writes) await gate.insertNewAction(w);
    const seen: string[] = [];
    const handler = async (events: OutboxEventRecord[], actions: Map<string, ActionRecord>) => {
      for (const e of events) {
        expect(actions.get(e.actionId)?.status).toBe('pending');
        expect(e.type).toBe('action.escalated');
        expect(e.id).toMatch(/^[0-9]+$/);
      }
      // Hold the claim a moment so the other dispatchers run into the locked rows.
      await new Promise((r) => setTimeout(r, 20));
      seen.push(...events.map((e) => e.id));
      return events.map((e) => e.id);
    };
    const rounds = async () => {
      let total = 0;
      for (;;) {
        const { claimed, dispatched } = await outbox.dispatchBatch(7, handler);
        expect(dispatched).toBe(claimed);
        total += claimed;
        if (claimed === 0) return total;
      }
    };
    const totals = await Promise.all([rounds(), rounds(), rounds(), rounds()]);
    expect(totals.reduce((a, b) => a + b, 0)).toBe(60);
    expect(new Set(seen).size).toBe(60);
    expect(seen.length).toBe(60);
    expect(await undispatched()).toBe(0);
  });

  it('marks nothing when the handler throws, and the pool goes on', async () => {
    await gate.insertNewAction(escalation());
    await gate.insertNewAction(escalation());
    const failed = await outbox.dispatchBatch(10, async () => {
      throw new Error('redis down');
    }).catch((err: Error) => err);
    expect(failed).toBeInstanceOf(Error);
    expect(await undispatched()).toBe(2);
    // No transaction left open on a pooled connection (Postgres' own view of every session).
    const [open] = await sqlOf(prisma).query<{ n: number }>`
      SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND state LIKE 'idle in transaction%'`;
    expect(open!.n).toBe(0);
    const { dispatched } = await outbox.dispatchBatch(10, async (events) => events.map((e) => e.id));
    expect(dispatched).toBe(2);
    expect(await undispatched()).toBe(0);
  });

  it('marks only what the handler returns; an event whose action is gone comes without one', async () => {
    const w = escalation();
    await gate.insertNewAction(w);
    await prisma.$executeRaw`INSERT INTO "OutboxEvent" (type, "actionId", payload) VALUES ('action.escalated', 'act_gone', '{"type":"action.escalated","actionId":"act_gone"}'::jsonb)`;
    let missing: string[] = [];
    const { claimed, dispatched } = await outbox.dispatchBatch(10, async (events, actions) => {
      missing = events.filter((e) => !actions.has(e.actionId)).map((e) => e.actionId);
      return events.filter((e) => e.actionId === w.action.id).map((e) => e.id);
    });
    expect({ claimed, dispatched, missing }).toEqual({ claimed: 2, dispatched: 1, missing: ['act_gone'] });
    expect(await undispatched()).toBe(1);
    // Events younger than olderThanSeconds wait (the sweeper's catch-up pass).
    expect((await outbox.dispatchBatch(10, async (events) => events.map((e) => e.id), { olderThanSeconds: 3600 })).claimed).toBe(0);
    expect((await outbox.dispatchBatch(10, async (events) => events.map((e) => e.id))).dispatched).toBe(1);
  });

  it('refuses numbers that are not what a script may hold', async () => {
    await expect(outbox.dispatchBatch(0, async () => [])).rejects.toThrow(RangeError);
    await expect(outbox.dispatchBatch(1.5, async () => [])).rejects.toThrow(RangeError);
    await expect(outbox.dispatchBatch(5, async () => [], { olderThanSeconds: -1 })).rejects.toThrow(RangeError);
    await gate.insertNewAction(escalation());
    // Ids a handler returns that this batch did not claim are never marked, nor reach a script;
    // ids that are not row ids cannot be written into one at all.
    const [other] = await prisma.$queryRaw<{ id: bigint }[]>`INSERT INTO "OutboxEvent" (type, "actionId", payload) VALUES ('action.escalated', 'act_other', '{}'::jsonb) RETURNING id`;
    const sneaky = await outbox.dispatchBatch(1, async () => ['1); DROP TABLE "Action"; --', String(other!.id)]);
    expect(sneaky).toEqual({ claimed: 1, dispatched: 0 });
    expect(await undispatched()).toBe(2);
    expect(await prisma.action.count()).toBeGreaterThan(0);
    expect(() => sqlBigintArray(['1); DROP TABLE "Action"; --'])).toThrow(RangeError);
    expect(() => sqlInt(Number.NaN)).toThrow(RangeError);
    await outbox.dispatchBatch(10, async (events) => events.map((e) => e.id));
  });

  it('a script ending in COMMIT; counts as committed, and one Postgres rolled back is reported', async () => {
    const sql = sqlOf(prisma);
    expect(await sql.scriptTransaction(async (tx) => (await tx.run('BEGIN; SELECT 1 AS one; COMMIT;')).length)).toBe(3);
    const failed = await sql
      .scriptTransaction(async (tx) => {
        await tx.run('BEGIN');
        await tx.run('SELECT 1/0').catch(() => undefined);
        await tx.run('COMMIT');
      })
      .catch((err: Error) => err.message);
    expect(failed).toMatch(/rolled back by Postgres/);
    await expect(sql.scriptTransaction(async (tx) => void (await tx.run('BEGIN; SELECT 1')))).rejects.toThrow(/without COMMIT/);
  });
});
