import pg from 'pg';
import { ownerUrlOf } from './database.ts';

/**
 * Edits a sealed artifact the way only the database owner could: connected as the owner (the
 * service's role may not UPDATE the table, nor switch its trigger off), with the append-only
 * trigger switched off for this one statement's transaction. Tests use it to show that
 * verification notices. `databaseUrl` may be the service's: its database is edited as the owner.
 * Returns the edited artifact's seq.
 */
export async function tamperArtifact(databaseUrl: string, actionId: string, kind: string, edit: (canonical: string) => string): Promise<number> {
  const client = new pg.Client({ connectionString: ownerUrlOf(databaseUrl) });
  await client.connect();
  try {
    await client.query('BEGIN');
    const { rows } = await client.query<{ seq: string; canonical: string }>('SELECT seq, canonical FROM "Artifact" WHERE "actionId" = $1 AND kind = $2 ORDER BY seq LIMIT 1', [actionId, kind]);
    const row = rows[0];
    if (!row) throw new Error(`no ${kind} artifact for ${actionId}`);
    const changed = edit(row.canonical);
    if (changed === row.canonical) throw new Error('the edit changed nothing');
    await client.query('ALTER TABLE "Artifact" DISABLE TRIGGER "Artifact_refuse_update_delete"');
    await client.query('UPDATE "Artifact" SET canonical = $1 WHERE seq = $2', [changed, row.seq]);
    await client.query('ALTER TABLE "Artifact" ENABLE TRIGGER "Artifact_refuse_update_delete"');
    await client.query('COMMIT');
    return Number(row.seq);
  } catch (err) {
    await client.query('ROLLBACK');
    throw err;
  } finally {
    await client.end();
  }
}
