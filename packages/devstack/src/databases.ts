import pg from 'pg';

// Database names here come from our own code (tests, the local stack), but they are still
// quoted as identifiers so that a surprising name can never become SQL.
const SAFE_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

function checkName(name: string): string {
  if (!SAFE_NAME.test(name)) {
    throw new Error(`database name "${name}" must match ${SAFE_NAME} (lower-case, digits, underscore)`);
  }
  return `"${name}"`;
}

async function withAdmin<T>(adminUrl: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

export interface CreateDatabaseOptions {
  /** Copy this database (CREATE DATABASE … TEMPLATE): fast, and nobody may be connected to it. */
  template?: string;
}

/** CREATE DATABASE on the server of `adminUrl`; fails if it already exists. */
export async function createDatabase(
  adminUrl: string,
  name: string,
  options: CreateDatabaseOptions = {},
): Promise<void> {
  const target = checkName(name);
  const template = options.template === undefined ? '' : ` TEMPLATE ${checkName(options.template)}`;
  await withAdmin(adminUrl, (client) => client.query(`CREATE DATABASE ${target}${template}`));
}

/** Creates the database unless it exists; returns true when it was created. */
export async function ensureDatabase(adminUrl: string, name: string): Promise<boolean> {
  const target = checkName(name);
  return withAdmin(adminUrl, async (client) => {
    const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (found.rowCount) return false;
    try {
      await client.query(`CREATE DATABASE ${target}`);
      return true;
    } catch (error) {
      // 42P04 duplicate_database: a concurrent starter created it between our check and ours.
      if ((error as { code?: string }).code === '42P04') return false;
      throw error;
    }
  });
}

/** DROP DATABASE IF EXISTS … WITH (FORCE): connections still open to it are terminated. */
export async function dropDatabase(adminUrl: string, name: string): Promise<void> {
  const target = checkName(name);
  await withAdmin(adminUrl, (client) => client.query(`DROP DATABASE IF EXISTS ${target} WITH (FORCE)`));
}

/** The same server and credentials as `url`, another database. */
export function databaseUrl(url: string, name: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${encodeURIComponent(name)}`;
  return parsed.toString();
}
