import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { DomainError, randomId } from '@countersign/contracts';
import { UniqueViolation, type NewActionWrite } from '@countersign/core';
import { generateSigningKey, Keyring, sha256Hex } from '@countersign/evidence';
import { createPrismaClient, sqlOf, type PrismaClient } from '../src/client.ts';
import { PgGateStore } from '../src/gate-store.ts';
import { sealSigningKey } from '../src/signing-key-seal.ts';
import { freshDatabase, type TestDatabase } from '../../../test/support/database.ts';
import { expectChainIntact as chainIntact, newWrite } from './support/new-action-writes.ts';

// A writer that left the head where it is seals its next batch before sending it, in one
// statement (known-head-append.ts). Whatever moved the head meanwhile — another process, an
// artifact of this process's own votes, a key rotation — or whatever keeps an action out (a
// taken Idempotency-Key, a revoked key, a value Postgres refuses), that statement commits
// nothing, the batch goes the ordinary way, and the chain stays one gapless, verifiable line.

const key = generateSigningKey();
const keyring = new Keyring([key]);
let db: TestDatabase;
let prisma: PrismaClient;
const clients: PrismaClient[] = [];

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

/** One batch: submitted in one turn of the event loop, they share a transaction. */
function batch(store: PgGateStore, writes: NewActionWrite[]) {
  return Promise.allSettled(writes.map((w) => store.insertNewAction(w)));
}

/** Three batches one after the other: from the third on, the writer seals ahead. */
async function warmUp(store: PgGateStore): Promise<void> {
  for (let i = 0; i < 3; i++) await batch(store, [newWrite(), newWrite()]);
  expect(store.newActionBatches.sealedAhead).toBeGreaterThan(0);
}

/** The whole chain verifies, whole (support/new-action-writes.ts); on the shared database unless told. */
function expectChainIntact(keys: Keyring = keyring, on: PrismaClient = prisma): Promise<number> {
  return chainIntact(on, keys);
}

/** The backend whose statement is a batch sealed ahead (no `revoked AS (` CTE), waiting on a lock. */
async function sealedAheadWaitingOnLock(owner: pg.Client): Promise<number> {
  for (;;) {
    const { rows } = await owner.query<{ pid: number }>(
      `SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'
         AND query LIKE '%json_populate_recordset(NULL::"Action"%' AND query NOT LIKE '%revoked AS (%'`,
    );
    if (rows[0]) return rows[0].pid;
    await new Promise((r) => setTimeout(r, 20));
  }
}

const fulfilled = (results: PromiseSettledResult<unknown>[]) => results.filter((r) => r.status === 'fulfilled').length;

describe('sealing a batch ahead, on the head this writer left', () => {
  it('appends batch after batch in one statement each, never earlier than the artifact it follows though the clock goes back', async () => {
    // A database of its own: the clock it is given ends up in the future.
    const own = await freshDatabase();
    const c = createPrismaClient(own.url, { max: 4 });
    clients.push(c);
    try {
      let clock = Date.now();
      let step = 1_000;
      const store = new PgGateStore(sqlOf(c), keyring, () => new Date((clock += step)));
      await warmUp(store);
      // From here on, each reading of the clock is a second earlier than the one before.
      step = -1_000;
      const before = store.newActionBatches.sealedAhead;
      for (let i = 0; i < 10; i++) expect(fulfilled(await batch(store, [newWrite(), newWrite(), newWrite()]))).toBe(3);
      expect(store.newActionBatches.sealedAhead).toBe(before + 10);
      expect(store.newActionBatches.sealedAheadRefused).toBe(0);
      await expectChainIntact(keyring, c);
    } finally {
      await c.$disconnect();
      await own.drop();
    }
  });

  it('never writes an `at` earlier than the artifact it follows, whichever way it appends and whichever clock is behind', async () => {
    // Found by review: only batches sealed ahead kept `at` from going back. A process whose
    // clock is an hour behind, and one whose clock steps back a second at every reading, append
    // new actions (both ways) and other artifacts (a vote's way) in turn.
    const own = await freshDatabase();
    const c = createPrismaClient(own.url, { max: 4 });
    const d = createPrismaClient(own.url, { max: 4 });
    clients.push(c, d);
    try {
      let clock = Date.now();
      const steppingBack = new PgGateStore(sqlOf(c), keyring, () => new Date((clock -= 1_000)));
      const behind = new PgGateStore(sqlOf(d), keyring, () => new Date(Date.now() - 3_600_000));
      const onTime = new PgGateStore(sqlOf(d), keyring);
      const other = { kind: 'config.changed' as const, file: 'policy' as const, previousDigest: null };
      await batch(onTime, [newWrite()]);
      for (let round = 0; round < 4; round++) {
        await warmUp(steppingBack);
        await steppingBack.transaction((tx) => tx.appendArtifact({ ...other, digest: sha256Hex(`back ${round}`) }));
        await batch(behind, [newWrite(), newWrite()]);
        await behind.transaction((tx) => tx.appendArtifact({ ...other, digest: sha256Hex(`behind ${round}`) }));
        await batch(steppingBack, [newWrite()]);
      }
      expect(steppingBack.newActionBatches.headRead).toBeGreaterThan(0);
      expect(behind.newActionBatches.headRead).toBeGreaterThan(0);
      await expectChainIntact(keyring, c);
    } finally {
      await Promise.all([c.$disconnect(), d.$disconnect()]);
      await own.drop();
    }
  });

  it('commits nothing on a head another process moved, then appends the batch after it', async () => {
    const store = new PgGateStore(sqlOf(prisma), keyring);
    const other = new PgGateStore(sqlOf(client()), keyring);
    await warmUp(store);
    await batch(other, [newWrite()]);
    const writes = [newWrite(), newWrite(), newWrite()];
    const refused = store.newActionBatches.sealedAheadRefused;
    expect(fulfilled(await batch(store, writes))).toBe(3);
    expect(store.newActionBatches.sealedAheadRefused).toBe(refused + 1);
    for (const w of writes) expect(await prisma.artifact.count({ where: { actionId: w.action.id } })).toBe(1);
    // The batch found the head moved, so the next one reads the head again; after a refusal the
    // writer waits one more batch before it tries again, and each refusal in a row doubles that.
    const sealedAhead = () => store.newActionBatches.sealedAhead;
    const ahead = sealedAhead();
    await batch(store, [newWrite()]);
    await batch(store, [newWrite()]);
    expect(sealedAhead()).toBe(ahead);
    await batch(store, [newWrite()]);
    expect(sealedAhead()).toBe(ahead + 1);
    // Two refusals in a row: three ordinary batches, then a try.
    for (let refusal = 1; refusal <= 2; refusal++) {
      await batch(other, [newWrite()]);
      const refusedBefore = store.newActionBatches.sealedAheadRefused;
      await batch(store, [newWrite()]);
      expect(store.newActionBatches.sealedAheadRefused).toBe(refusedBefore + 1);
      // The ordinary batch that sorted it out found the head moved, so this one reads it too
      // (and finds it where it was left).
      await batch(store, [newWrite()]);
      // The wait after one refusal: one batch that could have tried.
      if (refusal === 1) await batch(store, [newWrite()]);
    }
    const reads = store.newActionBatches.headRead;
    for (let i = 0; i < 3; i++) await batch(store, [newWrite()]);
    expect(store.newActionBatches.headRead).toBe(reads + 3);
    await batch(store, [newWrite()]);
    expect(sealedAhead()).toBe(ahead + 2);
    expect(store.newActionBatches.headRead).toBe(reads + 3);
    await expectChainIntact();
  });

  it("does the same when this process's own transaction (a vote's artifact) moved the head", async () => {
    const store = new PgGateStore(sqlOf(prisma), keyring);
    await warmUp(store);
    await store.transaction((tx) => tx.appendArtifact({ kind: 'config.changed', file: 'policy', digest: sha256Hex('p2'), previousDigest: null }));
    const refused = store.newActionBatches.sealedAheadRefused;
    expect(fulfilled(await batch(store, [newWrite(), newWrite()]))).toBe(2);
    expect(store.newActionBatches.sealedAheadRefused).toBe(refused + 1);
    await expectChainIntact();
  });

  it('refuses only the member whose Idempotency-Key is taken, or whose key is revoked, or whose value Postgres refuses', async () => {
    const store = new PgGateStore(sqlOf(prisma), keyring);
    await prisma.apiKey.create({
      data: { id: 'key_gone', prefix: 'cs_gonekey', secretHash: 'e'.repeat(64), principalId: 'deploy-bot', principalKind: 'agent', revokedAt: new Date() },
    });
    await batch(store, [newWrite({ apiKeyId: 'key_i', idempotencyKey: 'once' })]);
    await warmUp(store);
    const taken = newWrite({ apiKeyId: 'key_i', idempotencyKey: 'once' });
    const revoked = newWrite({ apiKeyId: 'key_gone' });
    // jsonb cannot hold U+0000.
    const nul = newWrite({ summary: 'bad\u0000name' });
    for (const bad of [taken, revoked, nul]) {
      const good = [newWrite(), newWrite()];
      const refused = store.newActionBatches.sealedAheadRefused;
      const results = await batch(store, [good[0]!, bad, good[1]!]);
      expect(store.newActionBatches.sealedAheadRefused).toBe(refused + 1);
      expect(results[0]!.status).toBe('fulfilled');
      expect(results[2]!.status).toBe('fulfilled');
      expect(results[1]!.status).toBe('rejected');
      const reason = (results[1] as PromiseRejectedResult).reason as unknown;
      if (bad === taken) expect(reason).toBeInstanceOf(UniqueViolation);
      if (bad === revoked) expect(reason).toMatchObject({ name: 'DomainError', code: 'unauthenticated' });
      expect(await prisma.action.findUnique({ where: { id: bad.action.id } })).toBeNull();
      expect(await prisma.artifact.count({ where: { actionId: bad.action.id } })).toBe(0);
      // Its head was not moved by anyone: the writer goes on sealing ahead.
      await warmUp(store);
    }
    expect(await prisma.action.count({ where: { apiKeyId: 'key_i', idempotencyKey: 'once' } })).toBe(1);
    await expectChainIntact();
  });

  it('keeps one gapless chain when two processes seal ahead at once, many rounds', async () => {
    const one = new PgGateStore(sqlOf(client()), keyring);
    const two = new PgGateStore(sqlOf(client()), keyring);
    const before = await expectChainIntact();
    let committed = 0;
    for (let round = 0; round < 40; round++) {
      // Three rounds one writes alone (and gets to seal ahead), three both write at once, three
      // the other alone…
      const phase = Math.floor(round / 3) % 4;
      const who = phase === 0 ? [one] : phase === 2 ? [two] : [one, two];
      const results = await Promise.all(who.map((s) => batch(s, [newWrite({ apiKeyId: 'key_r', idempotencyKey: `r${round % 30}` }), newWrite(), newWrite()])));
      committed += results.reduce((n, r) => n + fulfilled(r), 0);
      for (const r of results.flat()) if (r.status === 'rejected') expect(r.reason).toBeInstanceOf(UniqueViolation);
    }
    expect(one.newActionBatches.sealedAhead + two.newActionBatches.sealedAhead).toBeGreaterThan(0);
    expect(one.newActionBatches.sealedAheadRefused + two.newActionBatches.sealedAheadRefused).toBeGreaterThan(0);
    expect(await prisma.action.count({ where: { apiKeyId: 'key_r' } })).toBe(30);
    expect(await expectChainIntact()).toBe(before + committed);
  });

  it('never signs with a key retired by a rotation sealed elsewhere, though it was sealing ahead with it', async () => {
    const rotated = await freshDatabase();
    const a = createPrismaClient(rotated.url, { max: 4 });
    clients.push(a);
    const oldKey = generateSigningKey();
    const newKey = generateSigningKey();
    try {
      const stale = new PgGateStore(sqlOf(a), new Keyring([oldKey]));
      await warmUp(stale);
      await sealSigningKey(sqlOf(a), new Keyring([newKey, oldKey]), () => new Date());
      const results = await batch(stale, [newWrite(), newWrite()]);
      for (const r of results) {
        expect(r.status).toBe('rejected');
        expect((r as PromiseRejectedResult).reason).toBeInstanceOf(DomainError);
        expect(String((r as PromiseRejectedResult).reason)).toMatch(/retired/);
      }
      const afterRotation = await a.$queryRawUnsafe<{ n: bigint }[]>(
        `SELECT count(*) AS n FROM "Artifact" WHERE "keyId" = $1 AND seq > (SELECT max(seq) FROM "Artifact" WHERE "actionId" IS NULL)`,
        oldKey.keyId,
      );
      expect(Number(afterRotation[0]!.n)).toBe(0);
    } finally {
      await a.$disconnect();
      await rotated.drop();
    }
  });
  // Found by review: the statement waits on the head row lock when another transaction holds
  // it, and Postgres then judges the head as that transaction left it.
  for (const mode of ['commits', 'rolls back', 'is cut off'] as const) {
    it(`waits on a transaction holding the head lock, which then ${mode}`, async () => {
      const own = await freshDatabase();
      const owner = new pg.Client({ connectionString: own.ownerUrl });
      await owner.connect();
      const c = createPrismaClient(own.url, { max: 4 });
      const d = createPrismaClient(own.url, { max: 4 });
      clients.push(c, d);
      try {
        const store = new PgGateStore(sqlOf(c), keyring);
        const other = new PgGateStore(sqlOf(d), keyring);
        await warmUp(store);
        // The other process appends an artifact and keeps its transaction open.
        let release!: (rollback: boolean) => void;
        const released = new Promise<boolean>((r) => (release = r));
        let locked!: () => void;
        const headLocked = new Promise<void>((r) => (locked = r));
        const holder = other
          .transaction(async (tx) => {
            await tx.appendArtifact({ kind: 'config.changed', file: 'policy', digest: sha256Hex(randomId('req')), previousDigest: null });
            locked();
            if (await released) throw new Error('rolled back on purpose');
          })
          .then(() => 'committed', (err: unknown) => String(err));
        await headLocked;
        const counts = { ...store.newActionBatches };
        const writes = [newWrite(), newWrite(), newWrite({ apiKeyId: 'key_w', idempotencyKey: 'w1' })];
        const pending = batch(store, writes);
        const pid = await sealedAheadWaitingOnLock(owner);
        if (mode === 'is cut off') {
          // Fail closed: the connection is gone mid-statement, nobody is told approved, nothing is written.
          await owner.query('SELECT pg_terminate_backend($1)', [pid]);
          const results = await pending;
          expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected', 'rejected']);
          for (const w of writes) expect(await c.action.findUnique({ where: { id: w.action.id } })).toBeNull();
          expect(store.newActionBatches.headRead).toBe(counts.headRead);
          release(false);
          expect(await holder).toBe('committed');
        } else {
          release(mode === 'rolls back');
          expect(await holder).toBe(mode === 'commits' ? 'committed' : 'Error: rolled back on purpose');
          const results = await pending;
          expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'fulfilled']);
          if (mode === 'commits') expect(store.newActionBatches.sealedAheadRefused).toBe(counts.sealedAheadRefused + 1);
          else expect(store.newActionBatches.sealedAhead).toBe(counts.sealedAhead + 1);
          for (const [i, w] of writes.entries()) {
            const stored = await c.artifact.findMany({ where: { actionId: w.action.id } });
            expect(stored.map((a) => a.hash)).toEqual([(results[i] as PromiseFulfilledResult<{ hash: string }>).value.hash]);
          }
        }
        // The writer goes on.
        for (let i = 0; i < 3; i++) expect(fulfilled(await batch(store, [newWrite(), newWrite()]))).toBe(2);
        await expectChainIntact(keyring, c);
      } finally {
        await owner.end();
        await Promise.all([c.$disconnect(), d.$disconnect()]);
        await own.drop();
      }
    });
  }
});
