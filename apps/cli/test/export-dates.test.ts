import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { run as exportCommand } from '../src/commands/export.ts';
import { runCaptured } from './support/run-captured.ts';

// `export --from/--to` read as the API reads them (FilterInstantSchema): a year-0000 date
// reached Postgres and came back as a raw Prisma error quoting source lines, "1" was read as
// 2001-01-01, and --from after --to wrote an empty signed export with exit 0. An empty --out
// wrote to stdout. All are usage errors now (exit 2), refused before the database is opened.

const ROOT = path.resolve(import.meta.dirname, '..', '..', '..');
const UNREACHABLE = 'postgres://countersign_app:pw@127.0.0.1:1/countersign';

function cli(args: string[]) {
  return runCaptured((io) => exportCommand(args, { ...io, env: { DATABASE_URL: UNREACHABLE }, cwd: ROOT }));
}

describe('countersign export --from / --to / --out', () => {
  for (const [args, message] of [
    [['--from', '0000-01-01'], '--from must be a date between 1970-01-01 and 9999-12-31 (UTC), got "0000-01-01"'],
    [['--from=-271821-04-20T00:00:00Z'], '--from must be an ISO-8601 date or date-time with offset, got "-271821-04-20T00:00:00Z"'],
    [['--to', '1'], '--to must be an ISO-8601 date or date-time with offset, got "1"'],
    [['--from', '2030-01-01', '--to', '2020-01-01'], '--from must be before --to'],
    [['--from', '2025-01-01T00:00:00Z', '--to', '2025-01-01'], '--from must be before --to'],
    [['--out', ''], '--out is empty: name the file'],
  ] as const) {
    it(`${args.join(' ')}: ${message}`, async () => {
      const run = await cli([...args]);
      expect(run.code).toBe(2);
      expect(run.out).toBe('');
      expect(run.err.split('\n')[0]).toContain(message);
      expect(run.err).toContain('usage: countersign export');
    });
  }
});
