import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import type { ApiKeyRecord } from '@countersign/core';
import { generateSigningKey, Keyring } from '@countersign/evidence';
import { ApiKeyCache } from '../src/api-key-cache.ts';
import { createPrismaClient, sqlOf, type PrismaClient } from '../src/client.ts';
import { PgDecisionBus } from '../src/decision-bus.ts';
import { PgGateStore } from '../src/gate-store.ts';
import { freshDatabase, type TestDatabase } from '../../../test/support/database.ts';
import { startTcpProxy } from '../../../test/support/tcp-proxy.ts';

// The API key cache may only answer while revocations can be heard: every revocation empties
// it (in this process at once, elsewhere through NOTIFY), and it is bypassed while the LISTEN
// connection is down.

function keyRecord(overrides: Partial<ApiKeyRecord> = {}): ApiKeyRecord {
  const suffix = Math.random().toString(36).slice(2, 12).padEnd(10, 'x');
  return {
    id: `key_${suffix}`,
    prefix: `cs_${suffix}`,
    secretHash: 'f'.repeat(64),
    principalId: 'deploy-bot',
    principalKind: 'agent',
    principalBinding: null,
    canDelegate: false,
    delegateFor: [],
    delegateBindings: [],
    label: 'test',
    createdAt: new Date(),
    revokedAt: null,
    lastUsedAt: null,
    ...overrides,
  };
}

async function until(condition: () => boolean | Promise<boolean>, ms = 3_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('ApiKeyCache on its own', () => {
  it('answers only while listening, until its TTL, and never keeps a read that overlapped an invalidation', () => {
    let now = 0;
    const cache = new ApiKeyCache({ ttlMs: 1_000, now: () => now });
    const key = keyRecord();

    cache.remember(cache.ticket(), key);
    expect(cache.get(key.prefix)).toBeUndefined(); // not listening yet: nothing kept

    cache.connected();
    cache.remember(cache.ticket(), key);
    expect(cache.get(key.prefix)).toBe(key);
    now = 999;
    expect(cache.get(key.prefix)).toBe(key);
    now = 1_000;
    expect(cache.get(key.prefix)).toBeUndefined();

    // A lookup that started before a revocation was heard must not repopulate the cache.
    const ticket = cache.ticket();
    cache.notified();
    cache.remember(ticket, key);
    expect(cache.get(key.prefix)).toBeUndefined();

    cache.remember(cache.ticket(), key);
    expect(cache.get(key.prefix)).toBe(key);
    cache.disconnected();
    expect(cache.get(key.prefix)).toBeUndefined();
    cache.connected();
    expect(cache.get(key.prefix)).toBeUndefined(); // revocations may have been missed meanwhile

    cache.remember(cache.ticket(), keyRecord({ prefix: 'cs_revokedxx', revokedAt: new Date() }));
    expect(cache.get('cs_revokedxx')).toBeUndefined();
  });
});

describe('ApiKeyCache with the decision bus and the store', () => {
  let db: TestDatabase;
  let prisma: PrismaClient;
  let other: PrismaClient;
  let bus: PgDecisionBus;
  let admin: pg.Client;
  const keyring = new Keyring([generateSigningKey()]);
  const cache = new ApiKeyCache({ ttlMs: 60_000 });

  beforeAll(async () => {
    db = await freshDatabase();
    prisma = createPrismaClient(db.url, { max: 2 });
    other = createPrismaClient(db.url, { max: 2 });
    bus = new PgDecisionBus(db.url);
    bus.listen(cache);
    await bus.start();
    admin = new pg.Client({ connectionString: db.url });
    await admin.connect();
  });
  afterAll(async () => {
    await bus?.close();
    await admin?.end();
    await prisma?.$disconnect();
    await other?.$disconnect();
    await db?.drop();
  });

  it('serves a key from memory, and drops it when another process revokes any key', async () => {
    const store = new PgGateStore(sqlOf(prisma), keyring, () => new Date(), { keyCache: cache });
    const elsewhere = new PgGateStore(sqlOf(other), keyring); // another process: no shared memory
    const key = keyRecord();
    const unrelated = keyRecord();
    await store.transaction(async (tx) => {
      await tx.insertApiKey(key);
      await tx.insertApiKey(unrelated);
    });
    expect(cache.live).toBe(true);

    expect((await store.findApiKeyByPrefix(key.prefix))?.label).toBe('test');
    await admin.query(`UPDATE "ApiKey" SET label = 'changed behind the cache' WHERE id = $1`, [key.id]);
    expect((await store.findApiKeyByPrefix(key.prefix))?.label).toBe('test'); // from memory

    expect(await elsewhere.transaction((tx) => tx.revokeApiKey(unrelated.id, new Date()))).toBe(true);
    await until(() => cache.size === 0);
    expect((await store.findApiKeyByPrefix(key.prefix))?.label).toBe('changed behind the cache');
  });

  it('forgets at once a key revoked through this store', async () => {
    const store = new PgGateStore(sqlOf(prisma), keyring, () => new Date(), { keyCache: cache });
    const key = keyRecord();
    await store.transaction((tx) => tx.insertApiKey(key));
    expect((await store.findApiKeyByPrefix(key.prefix))?.revokedAt).toBeNull();
    expect(cache.get(key.prefix)).toBeDefined();

    await store.transaction((tx) => tx.revokeApiKey(key.id, new Date()));
    // No waiting for the NOTIFY to come back: the very next lookup sees the revocation.
    expect((await store.findApiKeyByPrefix(key.prefix))?.revokedAt).toBeInstanceOf(Date);
  });

  it('is bypassed while the LISTEN connection is down, and starts empty when it is back', async () => {
    // This process's LISTEN connection goes through a proxy we can cut and keep cut.
    const proxy = await startTcpProxy(Number(new URL(db.url).port));
    const viaProxy = new URL(db.url);
    viaProxy.port = String(proxy.port);
    const ownCache = new ApiKeyCache({ ttlMs: 60_000 });
    const ownBus = new PgDecisionBus(viaProxy.toString());
    ownBus.listen(ownCache);
    await ownBus.start();
    try {
      const store = new PgGateStore(sqlOf(prisma), keyring, () => new Date(), { keyCache: ownCache });
      const key = keyRecord();
      await store.transaction((tx) => tx.insertApiKey(key));
      await store.findApiKeyByPrefix(key.prefix);
      expect(ownCache.get(key.prefix)).toBeDefined();

      proxy.cut();
      await until(() => !ownCache.live);
      // A revocation now would not be heard (here: made behind the bus's back, no NOTIFY), so
      // nothing may be answered from memory while the connection is down.
      await admin.query(`UPDATE "ApiKey" SET "revokedAt" = now() WHERE id = $1`, [key.id]);
      expect(ownCache.get(key.prefix)).toBeUndefined();
      expect((await store.findApiKeyByPrefix(key.prefix))?.revokedAt).toBeInstanceOf(Date);
      const another = keyRecord();
      await store.transaction((tx) => tx.insertApiKey(another));
      await store.findApiKeyByPrefix(another.prefix);
      expect(ownCache.size).toBe(0); // and nothing is kept meanwhile

      proxy.restore();
      await until(() => ownCache.live, 10_000); // reconnects with backoff
      expect(ownCache.get(another.prefix)).toBeUndefined();
      await store.findApiKeyByPrefix(another.prefix);
      expect(ownCache.get(another.prefix)).toBeDefined();
    } finally {
      await ownBus.close();
      await proxy.close();
    }
  });
});
