import { DomainError, type SealedArtifact } from '@countersign/contracts';
import { UniqueViolation, type NewActionWrite } from '@countersign/core';
import type { Keyring } from '@countersign/evidence';
import { appendOnKnownHead, type ChainHead } from './known-head-append.ts';
import { appendNewActions, IDEMPOTENCY_CONSTRAINT, type AppendedActions } from './new-action-sql.ts';
import { atOrAfter } from './signing-key-guard.ts';
import { databaseUnavailableReason, sqlStateOf } from './pg-errors.ts';
import type { Sql } from './sql.ts';
import { asUniqueViolation } from './unique-violation.ts';

/** Most submissions committed by one transaction (bounds statement size and lock hold time). */
export const MAX_BATCH = 100;

interface Queued {
  write: NewActionWrite;
  resolve(artifact: SealedArtifact): void;
  reject(err: unknown): void;
  /** Set after its batch failed for a reason that may be this submission's own: retried alone. */
  alone?: boolean;
}

/**
 * Group commit for new actions. Every submission appends to the one artifact chain, whose
 * head row lock serialises appends across processes; one transaction per submission would
 * queue them all behind that lock for several round trips and a commit each. Instead,
 * submissions arriving while a batch is in flight wait for it, then commit together in the
 * next transaction: one head update for the batch, each action still committing with its own
 * artifact (seq gapless, each linking to the one before).
 *
 * One batch is in flight per process (two in flight measured no faster: the second only
 * waits for the head lock, with half-size batches; sent on the head the first would leave, it
 * reached the head first about one time in seven and had to be sent again). An idle writer
 * starts at once, with no timer: a lone submission pays nothing for batching. Batches from
 * other processes still serialise on the head row lock, exactly like single appends.
 *
 * While nothing else appends, a batch is sealed before it is sent, on the head the previous
 * batch left, and goes out as one statement (appendOnKnownHead): one round trip instead of
 * two, and the head lock is not held while this busy process gets round to sealing. Should the
 * head have moved (another process, a vote's artifact, a key rotation) or an action not go in,
 * that statement commits nothing and the batch is appended the ordinary way, which also tells
 * whether the head stays where this writer leaves it (only then is the next batch sealed ahead).
 */
export class NewActionWriter {
  private readonly queue: Queued[] = [];
  private draining = false;
  private explicitIsolation = false;
  /** Where this writer left the head; undefined when it does not know. */
  private leftHead: ChainHead | undefined;
  /** Whether the next batch may be sealed on leftHead: the last batch found the head where it was left. */
  private headIsOurs = false;
  /**
   * Refusals since the last batch sealed ahead went in, and how many more batches go the
   * ordinary way before the next try: with other processes appending all the time, a try is
   * mostly refused (its inserts undone, an ERROR in Postgres' log), so each refusal in a row
   * doubles the wait, up to 15 batches. Only batches that could have tried (the head where this
   * writer left it) count down the wait.
   */
  private refusals = 0;
  private ordinaryBeforeTry = 0;
  /** Batches by the way they were appended (for tests and diagnostics). */
  readonly batches = { sealedAhead: 0, sealedAheadRefused: 0, headRead: 0 };

  constructor(
    private readonly sql: Sql,
    private readonly keyring: Keyring,
    private readonly now: () => Date,
    private readonly maxBatch: number = MAX_BATCH,
  ) {}

  write(write: NewActionWrite): Promise<SealedArtifact> {
    return new Promise((resolve, reject) => {
      this.queue.push({ write, resolve, reject });
      if (this.draining) return;
      this.draining = true;
      // setImmediate, not a timer: runs as soon as the submissions that reached us in this turn
      // of the event loop are queued, so that they share the first transaction.
      setImmediate(() => void this.drain());
    });
  }

  /** Commits batches one after the other until nobody is waiting. */
  private async drain(): Promise<void> {
    try {
      while (this.queue.length > 0) await this.commit(this.nextBatch());
    } finally {
      this.draining = false;
    }
  }

  private nextBatch(): Queued[] {
    if (this.queue[0]?.alone) return this.queue.splice(0, 1);
    let n = 0;
    while (n < this.queue.length && n < this.maxBatch && !this.queue[n]!.alone) n++;
    return this.queue.splice(0, n);
  }

  /** Commits one batch and settles every member; never throws. */
  private async commit(batch: Queued[]): Promise<void> {
    const head = this.leftHead;
    let sealAhead = this.headIsOurs && head !== undefined && head.keyId === this.keyring.active.keyId && !batch[0]!.alone;
    if (sealAhead && this.ordinaryBeforeTry > 0) {
      this.ordinaryBeforeTry -= 1;
      sealAhead = false;
    }
    this.leftHead = undefined;
    this.headIsOurs = false;
    if (sealAhead && head) {
      try {
        // `at` never goes backwards along the chain, whatever the clock does.
        const at = atOrAfter(head, this.now());
        const appended = await this.sql.transaction((tx) => appendOnKnownHead(tx, batch.map((q) => q.write), this.keyring, at, head), {
          readCommitted: this.explicitIsolation,
        });
        this.leftHead = appended.head;
        this.headIsOurs = true;
        this.batches.sealedAhead += 1;
        this.refusals = 0;
        batch.forEach((q, i) => q.resolve(appended.artifacts[i]!));
        return;
      } catch (err) {
        // Nothing committed. Unavailability fails the batch as below; anything else (the head
        // moved, an Idempotency-Key taken, a revoked key, one member's bad value) is sorted out
        // by the ordinary append.
        if (databaseUnavailableReason(err) !== undefined) {
          for (const q of batch) q.reject(err);
          return;
        }
        this.batches.sealedAheadRefused += 1;
        this.refusals = Math.min(this.refusals + 1, 4);
        this.ordinaryBeforeTry = 2 ** this.refusals - 1;
      }
    }
    this.batches.headRead += 1;
    let results: AppendedActions['artifacts'];
    try {
      // Postgres' default, READ COMMITTED, is what the batch needs (wait on the head lock,
      // then see the head as committed); should a database default to another level, the
      // writer asks for it from then on.
      const appended = await this.sql.transaction((tx) => appendNewActions(tx, batch.map((q) => q.write), this.keyring, this.now), {
        readCommitted: this.explicitIsolation,
      });
      if (appended.isolation !== 'read committed') this.explicitIsolation = true;
      results = appended.artifacts;
      this.leftHead = appended.after;
      this.headIsOurs = head !== undefined && appended.before.seq === head.seq && appended.before.hash === head.hash;
    } catch (err) {
      if (sqlStateOf(err) === SERIALIZATION_FAILURE) this.explicitIsolation = true;
      if (batch.length > 1 && mayBeOneSubmissions(err)) {
        // One agent's intent must never fail another's: the whole transaction rolled back, so
        // each member is retried in a transaction of its own, and only the one that fails
        // again is refused.
        this.queue.unshift(...batch.map((q) => ({ ...q, alone: true })));
        return;
      }
      const failure = asUniqueViolation(err) ?? err;
      for (const q of batch) q.reject(failure);
      return;
    }
    batch.forEach((q, i) => {
      const result = results[i];
      if (result === 'revoked') q.reject(new DomainError('unauthenticated', 'The API key has been revoked.'));
      // Its Idempotency-Key was taken (by a committed action, or an earlier member of this
      // batch): the caller replays the winner's result, now visible.
      else if (result === 'taken' || result === undefined) q.reject(new UniqueViolation(IDEMPOTENCY_CONSTRAINT));
      else q.resolve(result);
    });
  }
}

const SERIALIZATION_FAILURE = '40001';

/**
 * Whether a failed batch may have failed because of one member rather than the database being
 * unavailable. Anything but unavailability may be one member's: text Postgres refuses (22),
 * a constraint (23), a deadlock, a statement too deep or too large for Postgres (54), a value
 * our code cannot serialise or seal (a BigInt, an intent nested deep enough to overflow
 * JSON.stringify's stack), or a failure nobody foresaw; a retry alone tells. Unavailability is
 * not retried member by member: each retry would wait out the same outage.
 */
function mayBeOneSubmissions(err: unknown): boolean {
  return databaseUnavailableReason(err) === undefined;
}
