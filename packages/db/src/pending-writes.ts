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

  get size(): number {
    return this.writes.length;
  }

  /**
   * Sends every pending write in one statement; throws (aborting the transaction) when an
   * expectation fails. With `commit` (a transaction runner that can), COMMIT rides in the same
   * round trip; the expectations are then checked by Postgres inside the statement, so one
   * that fails stops it before its COMMIT (see checkSql).
   */
  async flush(tx: SqlRunner, opts: { commit?: boolean } = {}): Promise<void> {
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
    const counts = writes.map((_, i) => `(SELECT count(*) FROM w${i})::int AS c${i}`);
    const commit = opts.commit && tx.queryTextAndCommit ? tx.queryTextAndCommit.bind(tx) : undefined;
    if (commit) counts.push(...writes.flatMap((w, i) => (w.expect ? [checkSql(i, w.expect.rows)] : [])));
    const text = `WITH ${ctes.join(',\n')}\nSELECT ${counts.join(', ')}`;
    let row: Record<string, number> | undefined;
    try {
      [row] = commit ? await commit<Record<string, number>>(text, values) : await tx.queryText<Record<string, number>>(text, values);
    } catch (err) {
      const failed = checkFailed(err);
      if (failed !== undefined && writes[failed]?.expect) throw new Error(writes[failed].expect.otherwise);
      throw err;
    }
    writes.forEach((w, i) => {
      if (w.expect && row?.[`c${i}`] !== w.expect.rows) throw new Error(w.expect.otherwise);
    });
  }
}

const CHECK_MARK = 'countersign-write-check';

/**
 * A select-list item that fails the statement when write `i` did not write `rows` rows: a cast
 * of text to int that cannot succeed, whose message names the write. The count's subquery in
 * the failing arm keeps the planner from evaluating it ahead of time (it folds constants, even
 * in a CASE arm that never runs). Our own text and integers only.
 */
function checkSql(i: number, rows: number): string {
  if (!Number.isSafeInteger(i) || !Number.isSafeInteger(rows)) throw new Error('checkSql: integers only');
  return `CASE WHEN (SELECT count(*) FROM w${i}) = ${rows} THEN 0 ELSE ('${CHECK_MARK} ${i} ' || (SELECT count(*) FROM w${i})::text)::int END AS k${i}`;
}

/** The index of the write whose check failed the statement, if that is what failed it. */
function checkFailed(err: unknown): number | undefined {
  const e = err as { code?: unknown; message?: unknown } | null;
  if (e?.code !== '22P02' || typeof e.message !== 'string') return undefined;
  // Only our own cast's message: another 22P02 whose input text happens to hold the mark is
  // passed on as it is.
  const m = e.message.match(new RegExp(`^invalid input syntax for type integer: "${CHECK_MARK} (\\d+) (\\d+)"$`));
  return m ? Number(m[1]) : undefined;
}
