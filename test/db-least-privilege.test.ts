import { createHash, randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureServiceLogin, SERVICE_GROUP_ROLE } from '@countersign/db/migrate';
import { freshDatabase, SERVICE_LOGIN, type TestDatabase } from './support/database.ts';

// The database itself keeps the service to appending evidence: connected as the service's login
// (what every test's freshDatabase().url is, and what npm start, Compose and the Kubernetes Job
// set up), it may insert and read artifacts, and is refused everything that could change,
// remove or unprotect them. Only the owner, who runs the migrations, could.

let db: TestDatabase;
let service: pg.Client;
let owner: pg.Client;
const roles: string[] = [];

beforeAll(async () => {
  db = await freshDatabase();
  service = new pg.Client({ connectionString: db.url });
  owner = new pg.Client({ connectionString: db.ownerUrl });
  await service.connect();
  await owner.connect();
});

afterAll(async () => {
  // Roles belong to the server, not the database: remove the ones made here.
  for (const role of roles) {
    await owner.query(`DROP OWNED BY "${role}"`);
    await owner.query(`DROP ROLE "${role}"`);
  }
  await service?.end();
  await owner?.end();
  await db?.drop();
});

function artifactRow(seq: number): unknown[] {
  const canonical = `{"seq":${seq}}`;
  const hash = createHash('sha256').update(canonical).digest('hex');
  return [seq, 'vote.recorded', new Date('2026-01-01T00:00:00Z'), canonical, hash, '0'.repeat(64), 'sig', 'key-1'];
}

const INSERT_ARTIFACT =
  'INSERT INTO "Artifact" ("seq","kind","at","canonical","hash","prevHash","signature","keyId") VALUES ($1,$2,$3,$4,$5,$6,$7,$8)';

/** The statement fails with insufficient_privilege (42501): refused by the privilege system, not by the trigger. */
async function refused(client: pg.Client, sql: string): Promise<string> {
  const error = await client.query(sql).then(
    () => undefined,
    (e: { code?: string; message: string }) => e,
  );
  expect(error, `${sql} was allowed`).toBeDefined();
  expect(error!.code, `${sql}: ${error!.message}`).toBe('42501');
  return error!.message;
}

describe("the service's database role", () => {
  it('is a login of its own, not a superuser, whose privileges come from the NOLOGIN group role', async () => {
    const { rows } = await service.query<{ me: string; super: boolean; member: boolean }>(
      `SELECT current_user AS me, (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) AS super,
              pg_has_role(current_user, $1, 'MEMBER') AS member`,
      [SERVICE_GROUP_ROLE],
    );
    expect(rows[0]).toEqual({ me: SERVICE_LOGIN, super: false, member: true });
    const group = await owner.query<{ rolcanlogin: boolean }>('SELECT rolcanlogin FROM pg_roles WHERE rolname = $1', [SERVICE_GROUP_ROLE]);
    expect(group.rows).toEqual([{ rolcanlogin: false }]);
  });

  it('may INSERT and SELECT artifacts', async () => {
    await service.query(INSERT_ARTIFACT, artifactRow(1));
    await service.query(INSERT_ARTIFACT, artifactRow(2));
    const { rows } = await service.query<{ seq: string }>('SELECT seq FROM "Artifact" ORDER BY seq');
    expect(rows.map((r) => r.seq)).toEqual(['1', '2']);
  });

  it('is refused UPDATE, DELETE and TRUNCATE on the artifact table', async () => {
    expect(await refused(service, `UPDATE "Artifact" SET kind = 'forged' WHERE seq = 1`)).toMatch(/permission denied for table Artifact/);
    expect(await refused(service, 'DELETE FROM "Artifact" WHERE seq = 2')).toMatch(/permission denied for table Artifact/);
    expect(await refused(service, 'TRUNCATE "Artifact"')).toMatch(/permission denied for table Artifact/);
  });

  it('cannot ALTER or DROP the table, nor disable, drop, replace or bypass its trigger', async () => {
    await refused(service, 'ALTER TABLE "Artifact" ADD COLUMN forged text');
    await refused(service, 'ALTER TABLE "Artifact" DISABLE TRIGGER "Artifact_refuse_update_delete"');
    await refused(service, 'ALTER TABLE "Artifact" DISABLE TRIGGER ALL');
    await refused(service, 'ALTER TABLE "Artifact" OWNER TO CURRENT_USER');
    await refused(service, 'DROP TRIGGER "Artifact_refuse_update_delete" ON "Artifact"');
    await refused(service, 'DROP TRIGGER "Artifact_refuse_truncate" ON "Artifact"');
    await refused(service, 'DROP TABLE "Artifact"');
    await refused(service, 'DROP FUNCTION "artifact_refuse_change"()');
    // Replacing the trigger's function with one that lets changes through.
    await refused(service, `CREATE OR REPLACE FUNCTION "artifact_refuse_change"() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END; $$`);
    await refused(service, `CREATE TRIGGER forged BEFORE INSERT ON "Artifact" FOR EACH ROW EXECUTE FUNCTION "artifact_refuse_change"()`);
    // Triggers do not fire for a replica session; only a superuser may be one.
    await refused(service, `SET session_replication_role = replica`);
    await refused(service, `SET ROLE postgres`);
    // Granting itself more is not an error, only a warning that nothing was granted.
    await service.query(`GRANT UPDATE, DELETE, TRUNCATE ON "Artifact" TO CURRENT_USER`);
    const powers = await service.query(
      `SELECT has_table_privilege('"Artifact"', 'UPDATE') OR has_table_privilege('"Artifact"', 'DELETE') OR has_table_privilege('"Artifact"', 'TRUNCATE') AS any`,
    );
    expect(powers.rows).toEqual([{ any: false }]);

    // Everything is as the migrations left it.
    const triggers = await owner.query<{ tgname: string; tgenabled: string }>(
      `SELECT tgname, tgenabled FROM pg_trigger WHERE tgrelid = '"Artifact"'::regclass AND NOT tgisinternal ORDER BY tgname`,
    );
    expect(triggers.rows).toEqual([
      { tgname: 'Artifact_refuse_truncate', tgenabled: 'O' },
      { tgname: 'Artifact_refuse_update_delete', tgenabled: 'O' },
    ]);
    const { rows } = await owner.query<{ seq: string; kind: string }>('SELECT seq, kind FROM "Artifact" ORDER BY seq');
    expect(rows).toEqual([
      { seq: '1', kind: 'vote.recorded' },
      { seq: '2', kind: 'vote.recorded' },
    ]);
  });

  it('may move the chain head, and nothing else on it', async () => {
    await service.query('BEGIN');
    try {
      const moved = await service.query<{ seq: string }>('UPDATE "ArtifactHead" SET seq = seq + 1, hash = $1 WHERE id = 1 RETURNING seq', ['f'.repeat(64)]);
      expect(moved.rows).toEqual([{ seq: '1' }]);
    } finally {
      await service.query('ROLLBACK');
    }
    await refused(service, 'UPDATE "ArtifactHead" SET id = 2 WHERE id = 1');
    await refused(service, `INSERT INTO "ArtifactHead" (id, seq, hash) VALUES (2, 0, 'x')`);
    await refused(service, 'DELETE FROM "ArtifactHead"');
    await refused(service, 'TRUNCATE "ArtifactHead"');
  });

  it('reads which migrations were applied (the schema check under COUNTERSIGN_SKIP_MIGRATIONS), never changes them', async () => {
    expect((await service.query('SELECT count(*)::int AS n FROM "_prisma_migrations"')).rows[0].n).toBeGreaterThan(0);
    await refused(service, 'DELETE FROM "_prisma_migrations"');
    await refused(service, `UPDATE "_prisma_migrations" SET rolled_back_at = now()`);
    await refused(service, `INSERT INTO "_prisma_migrations" (id, checksum, migration_name, started_at) VALUES ('x', 'x', 'x', now())`);
  });

  it('reads and writes every other table, including tables a later migration adds', async () => {
    const tables = await owner.query<{ name: string }>(
      `SELECT tablename AS name FROM pg_tables WHERE schemaname = 'public'
         AND tablename NOT IN ('Artifact', 'ArtifactHead', '_prisma_migrations') ORDER BY tablename`,
    );
    expect(tables.rows.length).toBeGreaterThanOrEqual(11);
    // A migration runs as the owner; default privileges grant its new tables like the others.
    await owner.query('CREATE TABLE "LaterTable" (id bigserial PRIMARY KEY, note text)');
    for (const { name } of [...tables.rows, { name: 'LaterTable' }]) {
      const { rows } = await service.query<Record<string, boolean>>(
        `SELECT has_table_privilege(current_user, $1, 'SELECT') AS select, has_table_privilege(current_user, $1, 'INSERT') AS insert,
                has_table_privilege(current_user, $1, 'UPDATE') AS update, has_table_privilege(current_user, $1, 'DELETE') AS delete,
                has_table_privilege(current_user, $1, 'TRUNCATE') AS truncate`,
        [`"${name}"`],
      );
      expect(rows[0], name).toEqual({ select: true, insert: true, update: true, delete: true, truncate: false });
    }
    await service.query(`INSERT INTO "LaterTable" (note) VALUES ('uses the sequence too')`);
    await refused(service, 'CREATE TABLE "Mine" (id int)');
  });
});

describe('ensureServiceLogin', () => {
  const newRole = () => {
    const role = `cs_test_${randomBytes(5).toString('hex')}`;
    roles.push(role);
    return role;
  };
  const urlAs = (role: string, password: string) => {
    const url = new URL(db.ownerUrl);
    url.username = role;
    url.password = password;
    return url.toString();
  };
  const connects = async (url: string) => {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    const { rows } = await client.query<{ me: string }>('SELECT current_user AS me');
    await client.end();
    return rows[0]!.me;
  };

  it('creates the login, sets a changed password, and changes nothing when all is in place', async () => {
    const role = newRole();
    expect(await ensureServiceLogin(db.ownerUrl, urlAs(role, 'first-password'))).toEqual({ role, changes: ['created', 'membership'], sameAsOwner: false });
    expect(await connects(urlAs(role, 'first-password'))).toBe(role);
    expect(await ensureServiceLogin(db.ownerUrl, urlAs(role, 'first-password'))).toEqual({ role, changes: [], sameAsOwner: false });
    expect(await ensureServiceLogin(db.ownerUrl, urlAs(role, 'second-password'))).toEqual({ role, changes: ['password'], sameAsOwner: false });
    expect(await connects(urlAs(role, 'second-password'))).toBe(role);
  });

  it('refuses a login that could change artifacts: a superuser, or one granted more', async () => {
    const superuser = newRole();
    await owner.query(`CREATE ROLE "${superuser}" LOGIN SUPERUSER PASSWORD 'x'`);
    await expect(ensureServiceLogin(db.ownerUrl, urlAs(superuser, 'x'))).rejects.toThrow(/is a superuser/);
    const granted = newRole();
    await owner.query(`CREATE ROLE "${granted}" LOGIN PASSWORD 'x'`);
    await owner.query(`GRANT UPDATE ON "Artifact" TO "${granted}"`);
    await expect(ensureServiceLogin(db.ownerUrl, urlAs(granted, 'x'))).rejects.toThrow(/may UPDATE or DELETE artifacts/);
  });

  it('says so, and changes nothing, when the service would connect as the owner itself', async () => {
    const ownerRole = decodeURIComponent(new URL(db.ownerUrl).username);
    expect(await ensureServiceLogin(db.ownerUrl, db.ownerUrl)).toEqual({ role: ownerRole, changes: [], sameAsOwner: true });
  });
});
