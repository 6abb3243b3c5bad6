import { existsSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { startLocalStack } from '../src/local-stack.ts';
import { removeScratchDirs, scratchDir } from './scratch.ts';

afterAll(removeScratchDirs);

describe('startLocalStack', () => {
  it('runs Postgres and Redis with their data in <root>/.countersign and reuses it on restart', async () => {
    const rootDir = scratchDir();
    const lines: string[] = [];
    const first = await startLocalStack({ rootDir, log: (line) => lines.push(line) });
    expect(first.databaseUrl).toMatch(/^postgres:\/\/postgres:[^@]+@127\.0\.0\.1:\d+\/countersign$/);
    expect(first.redisUrl).toMatch(/^redis:\/\/127\.0\.0\.1:\d+$/);
    expect(lines.some((line) => line.includes('created database "countersign"'))).toBe(true);
    const client = new pg.Client({ connectionString: first.databaseUrl });
    await client.connect();
    await client.query('CREATE TABLE survives (id int)');
    await client.end();
    await first.stop();
    await first.stop();
    expect(existsSync(join(rootDir, '.countersign', 'postgres', 'PG_VERSION'))).toBe(true);
    expect(existsSync(join(rootDir, '.countersign', 'redis'))).toBe(true);

    lines.length = 0;
    const second = await startLocalStack({ rootDir, log: (line) => lines.push(line) });
    try {
      expect(lines.some((line) => line.includes('created database'))).toBe(false);
      const again = new pg.Client({ connectionString: second.databaseUrl });
      await again.connect();
      const result = await again.query("SELECT to_regclass('survives') IS NOT NULL AS present");
      await again.end();
      expect(result.rows[0]?.present).toBe(true);
    } finally {
      await second.stop();
    }
  });
});
