import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UniqueViolation, type NewActionWrite } from '@countersign/core';
import { generateSigningKey, Keyring } from '@countersign/evidence';
import { createPrismaClient, sqlOf, type PrismaClient } from '../src/client.ts';
import { PgGateStore } from '../src/gate-store.ts';
import { MAX_BATCH } from '../src/new-action-writer.ts';
import { databaseUnavailableReason } from '../src/pg-errors.ts';
import { freshDatabase, type TestDatabase } from '../../../test/support/database.ts';
import { expectChainIntact as chainIntact, newWrite } from './support/new-action-writes.ts';

// Group commit of new actions (NewActionWriter behind PgGateStore.insertNewAction), on a
// real Postgres: concurrent submissions share transactions, yet every action commits with its
// own artifact, the chain stays gapless and verifiable, and one submission's problem
// (Idempotency-Key taken, data Postgres refuses, an event that cannot be sealed) refuses only it.

const keyring = new Keyring([generateSigningKey()]);
let db: TestDatabase;
const clients: PrismaClient[] = [];
let prisma: PrismaClient;

// A clock that moves 1 ms per reading: the writer reads it once per batch (under the chain
// head lock), so artifacts sharing an `at` were committed by one transaction.
let tick = Date.parse('2026-01-01T00:00:00.000Z');
const now = () => new Date(tick++);

function client(): PrismaClient {
  const c = createPrismaClient(db.url, { max: 4 });
  clients.push(c);
  return c;
}

beforeAll(async () => {
  db = await freshDatabase();
  prisma = client();
});
afterAll(async () => {
  await Promise.all(clients.map((c) => c.$disconnect()));
  await db?.drop();
});

/** The chain verifies, whole (support/new-action-writes.ts). */
const expectChainIntact = () => chainIntact(prisma, keyring);

describe('group commit of new actions', () => {
  it('commits 200 concurrent submissions in shared transactions, each with its own artifact', async () => {
    const store = new PgGateStore(sqlOf(prisma), keyring, now);
    const before = await prisma.artifact.count();
    const writes = Array.from({ length: 200 }, (_, i) => newWrite({ escalate: i % 10 === 0 }));
    const artifacts = await Promise.all(writes.map((w) => store.insertNewAction(w)));

    expect(new Set(artifacts.map((a) => a.seq)).size).toBe(200);
    artifacts.forEach((a, i) => {
      expect(a.actionId).toBe(writes[i]!.action.id);
      expect(a.kind).toBe(writes[i]!.artifact.kind);
    });
    // Every action has exactly its one artifact, stored as returned.
    for (const [i, w] of writes.entries()) {
      const stored = await prisma.artifact.findMany({ where: { actionId: w.action.id } });
      expect(stored).toHaveLength(1);
      expect(stored[0]!.hash).toBe(artifacts[i]!.hash);
      const action = await prisma.action.findUniqueOrThrow({ where: { id: w.action.id } });
      expect(action).toMatchObject({ status: w.action.status, ruleIds: w.action.ruleIds, idempotencyKey: null });
      expect(action.intent).toEqual(w.action.intent);
      expect(action.requirement ?? null).toEqual(w.action.requirement);
      expect(action.createdAt.getTime()).toBe(w.action.createdAt.getTime());
    }
    expect(await prisma.outboxEvent.count({ where: { actionId: { in: writes.map((w) => w.action.id) } } })).toBe(20);

    // Batching happened (fewer transactions than submissions) within the cap.
    const byAt = new Map<string, number>();
    for (const a of artifacts) byAt.set(a.at, (byAt.get(a.at) ?? 0) + 1);
    expect(byAt.size).toBeLessThan(200);
    expect(Math.max(...byAt.values())).toBeLessThanOrEqual(MAX_BATCH);
    expect(await expectChainIntact()).toBe(before + 200);
  });

  it('refuses only the submissions whose Idempotency-Key is taken; the rest of the batch commits', async () => {
    const store = new PgGateStore(sqlOf(prisma), keyring, now);
    await store.insertNewAction(newWrite({ apiKeyId: 'key_a', idempotencyKey: 'taken' }));

    const late = newWrite({ apiKeyId: 'key_a', idempotencyKey: 'taken' });
    const twinA = newWrite({ apiKeyId: 'key_a', idempotencyKey: 'twin' });
    const twinB = newWrite({ apiKeyId: 'key_a', idempotencyKey: 'twin' });
    const otherKey = newWrite({ apiKeyId: 'key_b', idempotencyKey: 'taken' }); // same key string, other API key
    const plain = Array.from({ length: 20 }, () => newWrite({ apiKeyId: 'key_a' }));
    // Submitted in one turn of the event loop: they share one transaction.
    const all = [late, twinA, ...plain.slice(0, 10), twinB, otherKey, ...plain.slice(10)];
    const results = await Promise.allSettled(all.map((w) => store.insertNewAction(w)));
    const outcome = (w: NewActionWrite) => results[all.indexOf(w)]!;

    expect(outcome(late).status).toBe('rejected');
    expect((outcome(late) as PromiseRejectedResult).reason).toBeInstanceOf(UniqueViolation);
    expect(outcome(twinA).status).toBe('fulfilled'); // the first of the batch wins
    expect((outcome(twinB) as PromiseRejectedResult).reason).toBeInstanceOf(UniqueViolation);
    expect(outcome(otherKey).status).toBe('fulfilled');
    for (const w of plain) expect(outcome(w).status).toBe('fulfilled');
    // The committed ones shared one transaction.
    const ats = new Set([twinA, otherKey, ...plain].map((w) => (outcome(w) as PromiseFulfilledResult<{ at: string }>).value.at));
    expect(ats.size).toBe(1);

    for (const w of [late, twinB]) {
      expect(await prisma.action.findUnique({ where: { id: w.action.id } })).toBeNull();
      expect(await prisma.artifact.count({ where: { actionId: w.action.id } })).toBe(0);
    }
    expect(await prisma.action.count({ where: { apiKeyId: 'key_a', idempotencyKey: 'twin' } })).toBe(1);
    await expectChainIntact();
  });

  it('records nothing under an API key revoked before the batch, whatever the caller believed', async () => {
    const store = new PgGateStore(sqlOf(prisma), keyring, now);
    await prisma.apiKey.create({
      data: { id: 'key_revoked', prefix: 'cs_revokedkey', secretHash: 'f'.repeat(64), principalId: 'deploy-bot', principalKind: 'agent', revokedAt: new Date() },
    });
    const revoked = newWrite({ apiKeyId: 'key_revoked' });
    const good = Array.from({ length: 5 }, () => newWrite());
    const results = await Promise.allSettled([revoked, ...good].map((w) => store.insertNewAction(w)));

    expect(results[0]!.status).toBe('rejected');
    expect((results[0] as PromiseRejectedResult).reason).toMatchObject({ name: 'DomainError', code: 'unauthenticated' });
    expect(results.slice(1).every((r) => r.status === 'fulfilled')).toBe(true);
    expect(await prisma.action.findUnique({ where: { id: revoked.action.id } })).toBeNull();
    expect(await prisma.artifact.count({ where: { actionId: revoked.action.id } })).toBe(0);
    await expectChainIntact();
  });

  it('retries the others alone when one submission is refused by Postgres or cannot be sealed', async () => {
    const store = new PgGateStore(sqlOf(prisma), keyring, now);
    // jsonb cannot hold U+0000: Postgres refuses this row, and with it the whole first attempt.
    const nul = newWrite({ intent: { action: { type: 'db.query', resource: 'orders-replica', summary: 'bad\u0000name' } } });
    const unsealable = newWrite({ badEvent: true });
    const good = Array.from({ length: 10 }, () => newWrite());
    const all = [...good.slice(0, 5), nul, unsealable, ...good.slice(5)];
    const results = await Promise.allSettled(all.map((w) => store.insertNewAction(w)));

    expect(results[5]!.status).toBe('rejected');
    expect(results[6]!.status).toBe('rejected');
    expect(String((results[6] as PromiseRejectedResult).reason)).toMatch(/cannot seal artifact/);
    for (const w of good) expect(results[all.indexOf(w)]!.status).toBe('fulfilled');
    for (const w of [nul, unsealable]) {
      expect(await prisma.action.findUnique({ where: { id: w.action.id } })).toBeNull();
      expect(await prisma.artifact.count({ where: { actionId: w.action.id } })).toBe(0);
    }
    await expectChainIntact();
  });

  it("fails only the member whose write throws outside SQL (too deep to serialise, a BigInt): one agent's intent never fails another's", async () => {
    const store = new PgGateStore(sqlOf(prisma), keyring, now);
    // Injected at the port, past the HTTP edge's limits: 6,000 levels of params overflow
    // JSON.stringify's stack while the batch's statement is built (a RangeError), and a BigInt
    // has no JSON form (a TypeError). Neither is Postgres' answer nor a DomainError.
    let deepParams: Record<string, unknown> = {};
    for (let i = 0; i < 6_000; i++) deepParams = { nested: deepParams };
    const deep = newWrite();
    deep.action.intent = { ...deep.action.intent, action: { ...deep.action.intent.action, params: deepParams } };
    const bigint = newWrite();
    bigint.action.intent = { ...bigint.action.intent, action: { ...bigint.action.intent.action, params: { amount: 10n } } };
    const good = Array.from({ length: 10 }, () => newWrite());
    const before = await prisma.artifact.count();
    // Submitted in one turn of the event loop: all of them start in one batch.
    const all = [...good.slice(0, 5), deep, bigint, ...good.slice(5)];
    const results = await Promise.allSettled(all.map((w) => store.insertNewAction(w)));

    expect((results[all.indexOf(deep)] as PromiseRejectedResult).reason).toBeInstanceOf(RangeError);
    expect((results[all.indexOf(bigint)] as PromiseRejectedResult).reason).toBeInstanceOf(TypeError);
    for (const w of good) expect(results[all.indexOf(w)]!.status).toBe('fulfilled');
    for (const w of [deep, bigint]) {
      expect(await prisma.action.findUnique({ where: { id: w.action.id } })).toBeNull();
      expect(await prisma.artifact.count({ where: { actionId: w.action.id } })).toBe(0);
    }
    expect(await expectChainIntact()).toBe(before + good.length);
  });

  it('fails a whole batch at once, with no retry per member, when the database is unreachable', async () => {
    // Counts the transactions the writer starts, at the port it is given.
    const dead = createPrismaClient('postgresql://nobody:nothing@127.0.0.1:1/none', { max: 2 });
    clients.push(dead);
    let transactions = 0;
    const counting = new Proxy(sqlOf(dead), {
      get(target, property, receiver) {
        const value = Reflect.get(target, property, receiver) as unknown;
        if (property !== 'transaction' || typeof value !== 'function') return value;
        return (...args: unknown[]) => {
          transactions += 1;
          return (value as (...a: unknown[]) => unknown).apply(target, args);
        };
      },
    });
    const store = new PgGateStore(counting, keyring, now);
    const results = await Promise.allSettled(Array.from({ length: 20 }, () => store.insertNewAction(newWrite())));
    expect(results.every((r) => r.status === 'rejected')).toBe(true);
    for (const r of results) expect(databaseUnavailableReason((r as PromiseRejectedResult).reason)).toBeDefined();
    // One batch of 20 was tried once; retrying each alone would have made it 21.
    expect(transactions).toBe(1);
  });

  it('keeps one gapless chain when two processes batch at once', async () => {
    // Two stores on two clients (two pools): as two service processes would be.
    const one = new PgGateStore(sqlOf(client()), keyring, now);
    const two = new PgGateStore(sqlOf(client()), keyring, now);
    const before = await prisma.artifact.count();
    const writes = Array.from({ length: 200 }, (_, i) => ({ store: i % 2 ? one : two, write: newWrite({ apiKeyId: 'key_c', idempotencyKey: `k${i % 150}` }) }));
    const results = await Promise.allSettled(writes.map(({ store, write }) => store.insertNewAction(write)));

    // 150 distinct keys: exactly 150 commit, whichever process wins each; the rest are told why.
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(150);
    for (const r of results) if (r.status === 'rejected') expect(r.reason).toBeInstanceOf(UniqueViolation);
    expect(await prisma.action.count({ where: { apiKeyId: 'key_c' } })).toBe(150);
    expect(await expectChainIntact()).toBe(before + 150);
  });

  it('asks for READ COMMITTED itself once it finds a database defaulting to another level', async () => {
    const rr = await freshDatabase();
    try {
      // Database settings are the owner's to change, not the service's.
      const admin = createPrismaClient(rr.ownerUrl, { max: 1 });
      await admin.$executeRawUnsafe(`ALTER DATABASE "${new URL(rr.url).pathname.slice(1)}" SET default_transaction_isolation = 'repeatable read'`);
      await admin.$disconnect();
      const a = createPrismaClient(rr.url, { max: 4 });
      const b = createPrismaClient(rr.url, { max: 4 });
      clients.push(a, b);
      const one = new PgGateStore(sqlOf(a), keyring, now);
      const two = new PgGateStore(sqlOf(b), keyring, now);
      // Alone, each first batch commits even at REPEATABLE READ, and tells the writer the level.
      await one.insertNewAction(newWrite());
      await two.insertNewAction(newWrite());
      // Concurrent batches from two processes would now fail to serialise on the head row,
      // unless the writers run them at READ COMMITTED.
      const results = await Promise.allSettled(Array.from({ length: 100 }, (_, i) => (i % 2 ? one : two).insertNewAction(newWrite())));
      expect(results.filter((r) => r.status === 'rejected')).toEqual([]);
      expect(await a.artifact.count()).toBe(102);
    } finally {
      await rr.drop();
    }
  });

  it('fails every waiting submission, without retrying each, when the database is unreachable', async () => {
    const dead = createPrismaClient('postgresql://nobody:nothing@127.0.0.1:1/none', { max: 2 });
    clients.push(dead);
    const store = new PgGateStore(sqlOf(dead), keyring, now);
    const started = Date.now();
    const results = await Promise.allSettled(Array.from({ length: 20 }, () => store.insertNewAction(newWrite())));
    expect(results.every((r) => r.status === 'rejected')).toBe(true);
    expect(Date.now() - started).toBeLessThan(5_000);
  });
});
