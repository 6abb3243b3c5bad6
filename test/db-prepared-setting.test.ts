import { describe, expect, it } from 'vitest';
import { parseSettings, SettingsError } from '../apps/server/src/settings.ts';

// COUNTERSIGN_DB_PREPARED_STATEMENTS (packages/db/src/prepared-statements.ts): on unless told
// otherwise; a value that is neither true nor false stops the service naming the variable.
const base = { DATABASE_URL: 'postgres://u:p@127.0.0.1:5432/db', REDIS_URL: 'redis://127.0.0.1:6379' };

describe('COUNTERSIGN_DB_PREPARED_STATEMENTS', () => {
  it('defaults to on; true/1 and false/0 are read as such', () => {
    expect(parseSettings(base).COUNTERSIGN_DB_PREPARED_STATEMENTS).toBe(true);
    expect(parseSettings({ ...base, COUNTERSIGN_DB_PREPARED_STATEMENTS: 'false' }).COUNTERSIGN_DB_PREPARED_STATEMENTS).toBe(false);
    expect(parseSettings({ ...base, COUNTERSIGN_DB_PREPARED_STATEMENTS: '0' }).COUNTERSIGN_DB_PREPARED_STATEMENTS).toBe(false);
    expect(parseSettings({ ...base, COUNTERSIGN_DB_PREPARED_STATEMENTS: '1' }).COUNTERSIGN_DB_PREPARED_STATEMENTS).toBe(true);
  });

  it('anything else stops the service, naming the variable', () => {
    let err: unknown;
    try {
      parseSettings({ ...base, COUNTERSIGN_DB_PREPARED_STATEMENTS: 'off' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(SettingsError);
    expect(String((err as Error).message)).toMatch(/COUNTERSIGN_DB_PREPARED_STATEMENTS/);
  });
});
