import type { SqlRunner } from './sql.ts';

// Writes a transaction has asked for but not sent yet, sent together as ONE statement (one
// round trip) of data-modifying CTEs when the transaction reads next or commits. A vote wrote
// its row, the action's final state, two artifacts, the head, two outbox events and two
// NOTIFYs one statement each; each statement is a round trip, and on a small machine the
// socket write of a round trip costs more CPU than the statement itself.
//
// Same effects, same transaction, same errors (a unique violation aborts the transaction as
// before, at the flush instead of at the call). Postgres runs every data-modifying CTE exactly
// once whether or not it is read; they all see the snapshot from before the statement, so one
// flush never holds two writes to the same row (the caller flushes in between), and row
// counts come back per write so expectations ("exactly one row") are still checked.

/**
 * One write: SQL with `?` placeholders for `values`, in order (our own statements, which use no
 * `?` operator), returning one row per row it wrote; `expect`: how many rows it must write.
 */
export interface PendingWrite {
  sql: string;
  values: unknown[];
  expect?: { rows: number; otherwise: string };
}

export class PendingWrites {
  private writes: PendingWrite[] = [];

  add(write: PendingWrite): void {
    this.writes.push(write);
  }

  /** Sends every pending write in one statement; throws (aborting the transaction) when an expectation fails. */
  async flush(tx: SqlRunner): Promise<void> {
    const writes = this.writes;
    if (writes.length === 0) return;
    this.writes = [];
    const values: unknown[] = [];
    const ctes = writes.map((w, i) => {
      let k = 0;
      const text = w.sql.replace(/\?/g, () => {
        values.push(w.values[k++]);
        return `$${values.length}`;
      });
      if (k !== w.values.length) throw new Error(`pending write ${i}: ${w.values.length} values for ${k} placeholders`);
      return `w${i} AS (${text})`;
    });
    const counts = writes.map((_, i) => `(SELECT count(*) FROM w${i})::int AS c${i}`).join(', ');
    const [row] = await tx.queryText<Record<string, number>>(`WITH ${ctes.join(',\n')}\nSELECT ${counts}`, values);
    writes.forEach((w, i) => {
      if (w.expect && row?.[`c${i}`] !== w.expect.rows) throw new Error(w.expect.otherwise);
    });
  }
}
