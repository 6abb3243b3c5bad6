import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateSigningKey, Keyring } from '@countersign/evidence';
import { PgGateStore } from '../src/gate-store.ts';
import { StatementNames } from '../src/prepared-statements.ts';
import { sealSigningKey } from '../src/signing-key-seal.ts';
import { Sql } from '../src/sql.ts';
import { freshDatabase, type TestDatabase } from '../../../test/support/database.ts';

// sealSigningKey retires the previous key in the process's keyring inside its transaction. Run
// a second time (as Sql.transaction runs a transaction that met a stale prepared statement),
// it would take the rotation for sealed and seal none: the chain would go from the old key to
// the new one unannounced. It runs once: a stale statement fails the start, and the next start
// seals the rotation.

let db: TestDatabase;
const pools: pg.Pool[] = [];
beforeAll(async () => {
  db = await freshDatabase();
});
afterAll(async () => {
  await Promise.all(pools.map((p) => p.end()));
  await db?.drop();
});

function sqlOn(names: StatementNames, Client?: typeof pg.Client): Sql {
  const pool = new pg.Pool({ connectionString: db.url, max: 1, ...(Client ? { Client } : {}) });
  pools.push(pool);
  return new Sql(pool, names);
}

describe('sealSigningKey and a stale prepared statement', () => {
  it('fails the start instead of running twice; the next start seals the rotation, once', async () => {
    const oldKey = generateSigningKey();
    const newKey = generateSigningKey();
    await new PgGateStore(sqlOn(new StatementNames(true)), new Keyring([oldKey])).transaction((tx) =>
      tx.appendArtifact({ kind: 'config.changed', file: 'policy', digest: 'a', previousDigest: null }),
    );
    // The rotation's write meets a statement DISCARD ALL removed (26000 from
    // FetchPreparedStatement): one of the errors a transaction is otherwise run again for.
    let injected = false;
    class StatementGone extends pg.Client {
      override query(config: unknown, ...rest: unknown[]): never {
        const text = (config as { text?: string } | null)?.text;
        if (!injected && typeof text === 'string' && text.includes('INSERT INTO "Artifact"')) {
          injected = true;
          return Promise.reject(Object.assign(new Error('prepared statement "cs0_x" does not exist'), { code: '26000', routine: 'FetchPreparedStatement' })) as never;
        }
        return (super.query as (...a: unknown[]) => never)(config, ...rest);
      }
    }
    const names = new StatementNames(true);
    const starting = sqlOn(names, StatementGone as unknown as typeof pg.Client);
    await expect(sealSigningKey(starting, new Keyring([newKey, oldKey]), () => new Date())).rejects.toMatchObject({ code: '26000' });
    expect(injected).toBe(true);
    expect(names.renewals).toBe(1);
    const rotations = () => starting.query<{ seq: string }>`SELECT seq FROM "Artifact" WHERE kind = 'signing-key.rotated'`;
    expect(await rotations()).toEqual([]);

    // The next start (a new process, a new keyring) seals it.
    const sealed = await sealSigningKey(sqlOn(new StatementNames(true)), new Keyring([newKey, oldKey]), () => new Date());
    expect(sealed?.kind).toBe('signing-key.rotated');
    expect(await rotations()).toHaveLength(1);
  });
});
