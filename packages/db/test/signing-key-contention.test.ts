import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DomainError } from '@countersign/contracts';
import { generateSigningKey, Keyring } from '@countersign/evidence';
import { createPrismaClient, sqlOf, type PrismaClient } from '../src/client.ts';
import { sealSigningKey } from '../src/signing-key-seal.ts';
import type { Sql, SqlRunner } from '../src/sql.ts';
import { PgGateStore } from '../src/gate-store.ts';
import { freshDatabase, type TestDatabase } from '../../../test/support/database.ts';

// A process still running a retired key must not sign, even when it got the chain head lock
// only after waiting for another process's append: the statement that waited reads the
// artifact table as of before the wait, so the new head's signer comes from the head row, or,
// when the head was moved without it, is asked again.

const oldKey = generateSigningKey();
const newKey = generateSigningKey();
let db: TestDatabase;
let prisma: PrismaClient;

beforeAll(async () => {
  db = await freshDatabase();
  prisma = createPrismaClient(db.url, { max: 6 });
});
afterAll(async () => {
  await prisma?.$disconnect();
  await db?.drop();
});

/**
 * `sql`, recording every statement its transactions send (our own runner, observed: the
 * statements still run on Postgres).
 */
function recording(sql: Sql, texts: string[]): Sql {
  const watch = (tx: SqlRunner): SqlRunner => ({
    query: (strings, ...values) => (texts.push(strings.join('?')), tx.query(strings, ...values)),
    execute: (strings, ...values) => (texts.push(strings.join('?')), tx.execute(strings, ...values)),
    queryText: (text, values) => (texts.push(text), tx.queryText(text, values)),
    ...(tx.queryTextAndCommit ? { queryTextAndCommit: (text: string, values: unknown[]) => (texts.push(text), tx.queryTextAndCommit!(text, values)) } : {}),
  });
  return new Proxy(sql, {
    get(target, prop, receiver) {
      if (prop !== 'transaction') return Reflect.get(target, prop, receiver);
      return (fn: (tx: SqlRunner) => Promise<unknown>, options?: object) => target.transaction((tx) => fn(watch(tx)), options);
    },
  });
}

/** The statement the signing-key guard falls back to: the head's artifact, asked on its own. */
const ASKS_HEAD_ARTIFACT = /FROM "Artifact" WHERE seq = \?/;

const event = (digest: string) => ({ kind: 'config.changed' as const, file: 'policy' as const, digest, previousDigest: null });

describe('the retired-key guard under contention for the chain head', () => {
  it('refuses the retired key that waited for the head while the new key appended', async () => {
    const sql = sqlOf(prisma);
    // History signed by the old key, then the rotation sealed by a process with the new one.
    await new PgGateStore(sql, new Keyring([oldKey])).transaction((tx) => tx.appendArtifact(event('a')));
    await sealSigningKey(sql, new Keyring([newKey, oldKey]), () => new Date());

    const current = new PgGateStore(sql, new Keyring([newKey, oldKey]));
    const stale = new PgGateStore(sql, new Keyring([oldKey]));
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    let locked!: () => void;
    const headLocked = new Promise<void>((r) => (locked = r));
    // The current process takes the head and keeps its transaction open…
    const appending = current.transaction(async (tx) => {
      await tx.appendArtifact(event('b'));
      locked();
      await held;
    });
    await headLocked;
    // …while the stale one asks for the head and waits behind it.
    const forging = stale.transaction((tx) => tx.appendArtifact(event('forged')));
    await new Promise((r) => setTimeout(r, 300));
    release();
    await appending;
    const outcome = await forging.then(
      () => 'signed',
      (err: unknown) => err,
    );
    expect(outcome).toBeInstanceOf(DomainError);
    expect((outcome as DomainError).message).toMatch(/retired/);
    // Nothing the old key signed after the rotation is in the chain.
    const after = await prisma.artifact.findMany({ where: { kind: 'config.changed' }, orderBy: { seq: 'asc' } });
    expect(after.map((a) => [JSON.parse(a.canonical).event.digest, a.keyId])).toEqual([
      ['a', oldKey.keyId],
      ['b', newKey.keyId],
    ]);
  });
  it('reads the signer of a head moved while it waited from the head row, asking no second statement under the lock', async () => {
    const own = await freshDatabase();
    const a = createPrismaClient(own.url, { max: 4 });
    const b = createPrismaClient(own.url, { max: 4 });
    try {
      const ring = new Keyring([newKey]);
      const first = new PgGateStore(sqlOf(a), ring);
      await first.transaction((tx) => tx.appendArtifact(event('one')));
      let release!: () => void;
      const held = new Promise<void>((r) => (release = r));
      let locked!: () => void;
      const headLocked = new Promise<void>((r) => (locked = r));
      const appending = first.transaction(async (tx) => {
        await tx.appendArtifact(event('two'));
        locked();
        await held;
      });
      await headLocked;
      const texts: string[] = [];
      const waiting = new PgGateStore(recording(sqlOf(b), texts), ring).transaction((tx) => tx.appendArtifact(event('three')));
      await new Promise((r) => setTimeout(r, 300));
      release();
      await appending;
      await expect(waiting).resolves.toMatchObject({ seq: 3, keyId: newKey.keyId });
      // It did wait (the head lock's statement was sent before 'two' committed)…
      expect(texts.some((t) => t.includes('FOR UPDATE OF h'))).toBe(true);
      // …and still read who signed 'two' with the lock.
      expect(texts.filter((t) => ASKS_HEAD_ARTIFACT.test(t))).toEqual([]);
      const rows = await a.artifact.findMany({ orderBy: { seq: 'asc' } });
      expect(rows.map((r) => JSON.parse(r.canonical).event.digest)).toEqual(['one', 'two', 'three']);
      const [head] = await a.artifactHead.findMany();
      expect(head).toMatchObject({ seq: 3n, lastSeq: 3n, lastKeyId: newKey.keyId });
      expect(head!.lastAt?.toISOString()).toBe(rows[2]!.at.toISOString());
    } finally {
      await Promise.all([a.$disconnect(), b.$disconnect()]);
      await own.drop();
    }
  });

  it('asks the artifact table when the head was moved by a writer that left its signer behind (an earlier version), and a retired key still refuses', async () => {
    const own = await freshDatabase();
    const a = createPrismaClient(own.url, { max: 4 });
    try {
      await new PgGateStore(sqlOf(a), new Keyring([oldKey])).transaction((tx) => tx.appendArtifact(event('old')));
      await sealSigningKey(sqlOf(a), new Keyring([newKey, oldKey]), () => new Date());
      await new PgGateStore(sqlOf(a), new Keyring([newKey, oldKey])).transaction((tx) => tx.appendArtifact(event('new')));
      // An earlier version moves seq and hash only: the head row still names the old key's
      // artifact, one behind. Taken at its word, it would let the retired key sign on.
      await a.$executeRawUnsafe(`UPDATE "ArtifactHead" SET "lastSeq" = 1, "lastKeyId" = '${oldKey.keyId}'`);
      const texts: string[] = [];
      const stale = new PgGateStore(recording(sqlOf(a), texts), new Keyring([oldKey]));
      await expect(stale.transaction((tx) => tx.appendArtifact(event('forged')))).rejects.toThrow(/retired/);
      expect(texts.filter((t) => ASKS_HEAD_ARTIFACT.test(t))).toHaveLength(1);
      // The current key signs on, and the head row describes its artifact again.
      await new PgGateStore(sqlOf(a), new Keyring([newKey, oldKey])).transaction((tx) => tx.appendArtifact(event('after')));
      const [head] = await a.artifactHead.findMany();
      expect(head).toMatchObject({ seq: 4n, lastSeq: 4n, lastKeyId: newKey.keyId });
    } finally {
      await a.$disconnect();
      await own.drop();
    }
  });

  it('seals the rotation though its start waited for the old key\'s append, at no earlier time than it (found by review)', async () => {
    // Rolling rotation: a process with the new key starts while one with the old key (its clock
    // an hour ahead) is mid-append. The starting process's head-lock statement waits, and so
    // reads the chain as of before: the head showed no signer, no rotation was sealed, and the
    // new key then refused to sign until restarted.
    const own = await freshDatabase();
    const a = createPrismaClient(own.url, { max: 4 });
    const b = createPrismaClient(own.url, { max: 4 });
    try {
      const hourAhead = () => new Date(Date.now() + 3_600_000);
      const old = new PgGateStore(sqlOf(a), new Keyring([oldKey]), hourAhead);
      await old.transaction((tx) => tx.appendArtifact(event('one')));
      let release!: () => void;
      const held = new Promise<void>((r) => (release = r));
      let locked!: () => void;
      const headLocked = new Promise<void>((r) => (locked = r));
      const appending = old.transaction(async (tx) => {
        await tx.appendArtifact(event('two'));
        locked();
        await held;
      });
      await headLocked;
      const ring = new Keyring([newKey, oldKey]);
      const sealing = sealSigningKey(sqlOf(b), ring, () => new Date());
      await new Promise((r) => setTimeout(r, 300));
      release();
      await appending;
      const rotation = await sealing;
      expect(rotation?.kind).toBe('signing-key.rotated');
      expect(rotation?.keyId).toBe(newKey.keyId);
      const rows = await a.artifact.findMany({ orderBy: { seq: 'asc' } });
      expect(rows.map((r) => r.keyId)).toEqual([oldKey.keyId, oldKey.keyId, newKey.keyId]);
      // Not before the old key's last artifact, and the retirement time the keyring records
      // (published in the JWKS) is the rotation's own.
      expect(rows[2]!.at.getTime()).toBeGreaterThanOrEqual(rows[1]!.at.getTime());
      expect(ring.retirement(oldKey.keyId)?.retiredAt).toBe(rotation?.at);
      // The new key signs on.
      await expect(new PgGateStore(sqlOf(b), ring).transaction((tx) => tx.appendArtifact(event('three')))).resolves.toMatchObject({ keyId: newKey.keyId });
    } finally {
      await Promise.all([a.$disconnect(), b.$disconnect()]);
      await own.drop();
    }
  });
});
