import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { createDatabase, databaseUrl, dropDatabase, ensureDatabase } from '../src/databases.ts';
import { startPostgres } from '../src/postgres.ts';
import { isAlive } from '../src/process-owner.ts';
import { removeScratchDirs, scratchDir } from './scratch.ts';

afterAll(removeScratchDirs);

async function scalar<T>(url: string, sql: string): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    // A multi-statement query answers with one result per statement: the last one counts.
    const answer: pg.QueryResult | pg.QueryResult[] = await client.query(sql);
    const result = Array.isArray(answer) ? answer[answer.length - 1] : answer;
    return Object.values(result?.rows[0] ?? {})[0] as T;
  } finally {
    await client.end();
  }
}

describe('startPostgres', () => {
  it('keeps its data across a stop and a start on the same folder', async () => {
    const dataDir = scratchDir();
    const first = await startPostgres({ dataDir });
    expect(first.url).toMatch(/^postgres:\/\/postgres:[^@]+@127\.0\.0\.1:\d+\/postgres$/);
    await createDatabase(first.url, 'kept');
    await scalar(databaseUrl(first.url, 'kept'), 'CREATE TABLE note (body text); INSERT INTO note VALUES (\'still here\')');
    await first.stop();
    expect(isAlive(first.pid)).toBe(false);

    const second = await startPostgres({ dataDir });
    try {
      expect(await scalar<string>(databaseUrl(second.url, 'kept'), 'SELECT body FROM note')).toBe('still here');
    } finally {
      await second.stop();
    }
  });

  it('listens on 127.0.0.1 only and stops idempotently', async () => {
    const postgres = await startPostgres({ dataDir: scratchDir(), ephemeral: true });
    try {
      expect(await scalar<string>(postgres.url, 'SHOW listen_addresses')).toBe('127.0.0.1');
      expect(await scalar<string>(postgres.url, 'SHOW unix_socket_directories')).toBe('');
    } finally {
      await Promise.all([postgres.stop(), postgres.stop()]);
      await postgres.stop();
    }
    expect(isAlive(postgres.pid)).toBe(false);
  });

  it('creates, ensures and drops databases, and refuses unsafe names', async () => {
    const postgres = await startPostgres({ dataDir: scratchDir(), ephemeral: true });
    try {
      expect(await ensureDatabase(postgres.url, 'app')).toBe(true);
      expect(await ensureDatabase(postgres.url, 'app')).toBe(false);
      await expect(createDatabase(postgres.url, 'app')).rejects.toThrow(/already exists/);
      await dropDatabase(postgres.url, 'app');
      await dropDatabase(postgres.url, 'app');
      expect(await scalar<string>(postgres.url, "SELECT count(*)::text FROM pg_database WHERE datname = 'app'")).toBe('0');
      await expect(createDatabase(postgres.url, 'x"; DROP DATABASE postgres; --')).rejects.toThrow(/must match/);
    } finally {
      await postgres.stop();
    }
  });
});
