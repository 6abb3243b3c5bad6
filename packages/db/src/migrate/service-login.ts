import pg from 'pg';

/**
 * The group role the migrations grant the service's privileges to (prisma/migrations/
 * *_service_role). It cannot log in; the service's login role is made a member of it.
 */
export const SERVICE_GROUP_ROLE = 'countersign_service';

export interface ServiceLogin {
  /** The login role the service connects as. */
  role: string;
  /** What was done: created, its password set to the URL's, made a member, or nothing. */
  changes: Array<'created' | 'password' | 'membership'>;
  /**
   * True when the service URL names the schema owner itself ("one role for both"): nothing is
   * checked or changed, and only the append-only trigger stands between it and the evidence.
   */
  sameAsOwner: boolean;
}

/**
 * Makes the role in `serviceUrl` a login the service can use: creates it with the URL's
 * password when missing, sets that password when the URL's no longer works, and makes it a
 * member of countersign_service. Runs as the owner (`ownerUrl`), after the migrations (which
 * create the group role and its grants), and is idempotent: it changes only what is missing.
 *
 * Fails closed: a login that could still UPDATE or DELETE an artifact (a superuser, the
 * table's owner, or a role granted more than the migrations grant) is refused, since the
 * service would then run without the protection this exists for.
 */
export async function ensureServiceLogin(ownerUrl: string, serviceUrl: string): Promise<ServiceLogin> {
  const owner = new URL(ownerUrl);
  const service = new URL(serviceUrl);
  const role = decodeURIComponent(service.username);
  const password = decodeURIComponent(service.password);
  if (!role) throw new Error('the service database URL names no user');
  if (role === decodeURIComponent(owner.username)) return { role, changes: [], sameAsOwner: true };

  const changes: ServiceLogin['changes'] = [];
  const admin = new pg.Client({ connectionString: ownerUrl });
  await admin.connect();
  try {
    const group = await admin.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [SERVICE_GROUP_ROLE]);
    if (!group.rowCount) throw new Error(`role "${SERVICE_GROUP_ROLE}" does not exist: apply the migrations first`);
    const existing = await admin.query<{ rolsuper: boolean; rolcanlogin: boolean }>('SELECT rolsuper, rolcanlogin FROM pg_roles WHERE rolname = $1', [role]);
    const found = existing.rows[0];
    if (found?.rolsuper) throw new Error(`the service's database role "${role}" is a superuser: give the service a role of its own`);
    if (!found) {
      if (!password) throw new Error(`the service's database role "${role}" does not exist, and its URL has no password to create it with`);
      // format() quotes the name and the password server-side: neither can become SQL.
      await execute(admin, 'CREATE ROLE %I LOGIN PASSWORD %L', role, password);
      changes.push('created');
    } else if (password && (!found.rolcanlogin || !(await canConnect(serviceUrl)))) {
      await execute(admin, 'ALTER ROLE %I WITH LOGIN PASSWORD %L', role, password);
      changes.push('password');
    }
    const member = await admin.query<{ member: boolean }>(`SELECT pg_has_role($1, $2, 'MEMBER') AS member`, [role, SERVICE_GROUP_ROLE]);
    if (!member.rows[0]?.member) {
      await execute(admin, 'GRANT %I TO %I', SERVICE_GROUP_ROLE, role);
      changes.push('membership');
    }
    const powers = await admin.query<{ update: boolean; delete: boolean }>(
      `SELECT has_table_privilege($1, '"Artifact"', 'UPDATE') AS update, has_table_privilege($1, '"Artifact"', 'DELETE') AS delete`,
      [role],
    );
    const can = powers.rows[0];
    if (can?.update || can?.delete) {
      throw new Error(`the service's database role "${role}" may UPDATE or DELETE artifacts: it must hold only what ${SERVICE_GROUP_ROLE} grants`);
    }
    return { role, changes, sameAsOwner: false };
  } finally {
    await admin.end();
  }
}

async function execute(client: pg.Client, template: string, ...values: string[]): Promise<void> {
  const placeholders = values.map((_, i) => `$${i + 2}::text`).join(', ');
  const { rows } = await client.query<{ sql: string }>(`SELECT format($1::text, ${placeholders}) AS sql`, [template, ...values]);
  await client.query(rows[0]!.sql);
}

/** Whether the URL's credentials log in (28P01: wrong password; anything else is real trouble). */
async function canConnect(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url });
  try {
    await client.connect();
  } catch (error) {
    if ((error as { code?: string }).code === '28P01') return false;
    throw error;
  }
  await client.end();
  return true;
}
