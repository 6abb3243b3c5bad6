import { pooledRandomBytes } from '@countersign/contracts';
import type { ChannelCard } from './generated/prisma/client.ts';
import type { Sql } from './sql.ts';

// Approval cards and requester notices, one row per (action, channel, target). The unique
// index is what makes a retried or stalled job never post twice: a job must CLAIM the row
// before calling the channel, and a claim is granted to one caller at a time.
//
// States: claimed → posted (a card) | sent / unreachable (a notice) | failed (the channel said
// retrying cannot help) | retry (a retryable failure: the message certainly did not go out) |
// ambiguous (the call failed in a way that leaves open whether the channel took the message:
// a timeout, a 5xx). A claim left by a worker that died mid-call is taken over once its lease
// has run out. Whoever claims a row that was ambiguous, or taken over, gets it in the state
// `checking`: the message may already be out, so it looks for it (ApprovalChannel.findCard)
// before posting again.
//
// Once the action is decided, a card row still in doubt or never posted is closed for good
// (reconciled by update-cards): `absent`, no card exists (it certainly never went out, or the
// channel was asked and has none), or `unverified`, the channel cannot look for it (a copy may
// be out there, showing what it showed when posted). A row is never claimed again after that.
//
// Every write after a claim is fenced by the claim's time (`updatedAt` as the claim set it):
// a claimer whose claim was taken over meanwhile learns it (false / no row changed) instead of
// overwriting the new claimer's work.

export type CardState = 'claimed' | 'checking' | 'posted' | 'failed' | 'retry' | 'ambiguous' | 'sent' | 'unreachable' | 'absent' | 'unverified';

/** States in which a job holds the row (until its lease runs out). */
const HELD_STATES: readonly CardState[] = ['claimed', 'checking'];

export interface ChannelCardRecord {
  id: string;
  actionId: string;
  channel: string;
  target: string;
  /** Where the posted card lives (the channel's own CardRef), once posted. */
  messageRef: Record<string, unknown> | null;
  state: CardState;
  error: string | null;
  tier: number;
  createdAt: Date;
  updatedAt: Date;
}

export interface CardKey {
  actionId: string;
  channel: string;
  target: string;
  tier: number;
}

export type ClaimResult = { claimed: true; card: ChannelCardRecord } | { claimed: false; card: ChannelCardRecord };

/** What a claimer hands back to write its outcome: the row and its claim time (the fence). */
export type Claim = Pick<ChannelCardRecord, 'id' | 'updatedAt'>;

/** Requester notices share the table: their target is `notice/<status>/<personId>`. */
export function noticeTarget(status: string, personId: string): string {
  return `notice/${status}/${personId}`;
}

/**
 * Reminders share it too, one row per reminder and card (`remind/<index>/<card target>`), so
 * a reminder job that Redis lost can be rebuilt and run without nudging a card twice.
 */
function reminderTarget(index: number, cardTarget: string): string {
  return `remind/${index}/${cardTarget}`;
}

/** A card row no job has brought to an end yet. */
const UNSETTLED: CardState[] = ['claimed', 'checking', 'ambiguous', 'retry'];

function toCard(row: ChannelCard): ChannelCardRecord {
  return {
    id: row.id,
    actionId: row.actionId,
    channel: row.channel,
    target: row.target,
    messageRef: (row.messageRef ?? null) as Record<string, unknown> | null,
    state: row.state as CardState,
    error: row.error,
    tier: row.tier,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
}

const MAX_ERROR = 500;

export class PgCardStore {
  constructor(private readonly sql: Sql) {}

  /**
   * Claims the row for one channel call. Granted when the row is new, was given back (`retry`,
   * `ambiguous`), or is held by someone whose lease (database time) ran out; otherwise the
   * current row is returned so the caller can tell posted / failed / busy apart. The granted
   * row is `checking` when an earlier attempt may have gone out, else `claimed`.
   */
  async claim(key: CardKey, leaseMs: number): Promise<ClaimResult> {
    const id = `card_${pooledRandomBytes(10).toString('hex')}`;
    const rows = await this.sql.query<ChannelCard>`
      INSERT INTO "ChannelCard" (id, "actionId", channel, target, state, tier, "createdAt", "updatedAt")
      VALUES (${id}, ${key.actionId}, ${key.channel}, ${key.target}, 'claimed', ${key.tier}, now(), now())
      ON CONFLICT ("actionId", channel, target) DO UPDATE
        SET state = CASE WHEN "ChannelCard".state = 'retry' THEN 'claimed' ELSE 'checking' END, "updatedAt" = now()
        WHERE "ChannelCard".state IN ('retry', 'ambiguous')
           OR ("ChannelCard".state IN ('claimed', 'checking') AND "ChannelCard"."updatedAt" < now() - make_interval(secs => ${leaseMs / 1000}))
      RETURNING *`;
    if (rows[0]) return { claimed: true, card: toCard(rows[0]) };
    const [current] = await this.sql.query<ChannelCard>`
      SELECT * FROM "ChannelCard" WHERE "actionId" = ${key.actionId} AND channel = ${key.channel} AND target = ${key.target}`;
    // The row existed a moment ago and rows are never deleted.
    if (!current) throw new Error(`channel card ${key.channel}/${key.target} of ${key.actionId} vanished while claiming`);
    return { claimed: false, card: toCard(current) };
  }

  /** Claims reminder `index` next to one posted card (a row of its own, see reminderTarget). */
  async claimReminder(card: ChannelCardRecord, index: number, leaseMs: number): Promise<ClaimResult> {
    return this.claim({ actionId: card.actionId, channel: card.channel, target: reminderTarget(index, card.target), tier: card.tier }, leaseMs);
  }

  /** The card is in the channel; false when our claim had been taken over meanwhile. */
  async markPosted(claim: Claim, messageRef: Record<string, unknown>): Promise<boolean> {
    return this.settle(claim, 'posted', null, messageRef);
  }

  /** A notice went out (`reached`) or the channel cannot reach the person. */
  async markNotified(claim: Claim, reached: boolean): Promise<boolean> {
    return this.settle(claim, reached ? 'sent' : 'unreachable', null);
  }

  /** Retrying cannot help (unknown channel, invalid blocks): never tried again. */
  async markFailed(claim: Claim, error: string): Promise<boolean> {
    return this.settle(claim, 'failed', error);
  }

  /**
   * Gives a claim back so the next attempt can claim it at once: `retry` after a failure that
   * certainly sent nothing (or pacing); a claim that was `checking` stays in doubt (`ambiguous`)
   * until someone has looked and posted.
   */
  async release(claim: Claim, error: string | null): Promise<boolean> {
    const count = await this.sql.execute`
      UPDATE "ChannelCard"
        SET state = CASE WHEN state = 'checking' THEN 'ambiguous' ELSE 'retry' END, error = ${error?.slice(0, MAX_ERROR) ?? null}, "updatedAt" = now()
        WHERE id = ${claim.id} AND state IN ('claimed', 'checking') AND "updatedAt" = ${claim.updatedAt}`;
    return count === 1;
  }

  /**
   * Closes a claimed card of a decided action that is not in the channel, or cannot be looked
   * for there (see the states above); `why` is kept in `error`.
   */
  async markClosed(claim: Claim, state: 'absent' | 'unverified', why: string): Promise<boolean> {
    return this.settle(claim, state, why);
  }

  /** The call failed in a way that leaves open whether the message went out: look before posting again. */
  async markAmbiguous(claim: Claim, error: string): Promise<boolean> {
    return this.settle(claim, 'ambiguous', error);
  }

  /**
   * Records a target the channel cannot reach at all (a `#name` the workspace does not have):
   * a failed row, so operators see it next to the action's other cards. False when the row
   * already existed (recorded before, or posted through another route).
   */
  async recordFailed(key: CardKey, error: string): Promise<boolean> {
    const id = `card_${pooledRandomBytes(10).toString('hex')}`;
    const n = await this.sql.execute`
      INSERT INTO "ChannelCard" (id, "actionId", channel, target, state, error, tier, "createdAt", "updatedAt")
      VALUES (${id}, ${key.actionId}, ${key.channel}, ${key.target}, 'failed', ${error.slice(0, MAX_ERROR)}, ${key.tier}, now(), now())
      ON CONFLICT ("actionId", channel, target) DO NOTHING`;
    return n === 1;
  }

  /** The row as it is now (after a fenced write came back false: who has it?). */
  async get(id: string): Promise<ChannelCardRecord | null> {
    const [row] = await this.sql.query<ChannelCard>`SELECT * FROM "ChannelCard" WHERE id = ${id}`;
    return row ? toCard(row) : null;
  }

  /**
   * One fenced write: only while the row is still held under this very claim. `messageRef`
   * undefined leaves it as it is.
   */
  private async settle(claim: Claim, state: CardState, error: string | null, messageRef?: Record<string, unknown>): Promise<boolean> {
    const ref = messageRef === undefined ? null : JSON.stringify(messageRef);
    const count = await this.sql.execute`
      UPDATE "ChannelCard"
        SET state = ${state}, error = ${error?.slice(0, MAX_ERROR) ?? null}, "updatedAt" = now(),
            "messageRef" = CASE WHEN ${ref}::jsonb IS NULL THEN "messageRef" ELSE ${ref}::jsonb END
        WHERE id = ${claim.id} AND state = ANY(${HELD_STATES}::text[]) AND "updatedAt" = ${claim.updatedAt}`;
    return count === 1;
  }

  /** Remembers the last failure of a posted card (an update that could not be applied). */
  async recordError(id: string, error: string): Promise<void> {
    await this.sql.execute`UPDATE "ChannelCard" SET error = ${error.slice(0, MAX_ERROR)}, "updatedAt" = now() WHERE id = ${id}`;
  }

  /** The action's cards that are in a channel (notices excluded), oldest first. */
  async posted(actionId: string): Promise<ChannelCardRecord[]> {
    const rows = await this.sql.query<ChannelCard>`
      SELECT * FROM "ChannelCard" WHERE "actionId" = ${actionId} AND state = 'posted' ORDER BY "createdAt", id`;
    return rows.map(toCard);
  }

  /** The action's card rows not brought to an end (in doubt, given back, or held), oldest first. */
  async unsettled(actionId: string): Promise<ChannelCardRecord[]> {
    // Notices (notice/…) and reminders (remind/…) share the table but are not cards.
    const rows = await this.sql.query<ChannelCard>`
      SELECT * FROM "ChannelCard"
      WHERE "actionId" = ${actionId} AND state = ANY(${UNSETTLED}::text[])
        AND target NOT LIKE 'notice/%' AND target NOT LIKE 'remind/%'
      ORDER BY "createdAt", id`;
    return rows.map(toCard);
  }

  /**
   * posted() and unsettled() in one read: what update-cards needs (a decided action's unsettled
   * rows are rare, and only then is posted() asked again after reconciling them).
   */
  async toRender(actionId: string): Promise<{ posted: ChannelCardRecord[]; unsettled: ChannelCardRecord[] }> {
    const rows = await this.sql.query<ChannelCard>`
      SELECT * FROM "ChannelCard"
      WHERE "actionId" = ${actionId}
        AND (state = 'posted' OR (state = ANY(${UNSETTLED}::text[]) AND target NOT LIKE 'notice/%' AND target NOT LIKE 'remind/%'))
      ORDER BY "createdAt", id`;
    const cards = rows.map(toCard);
    return { posted: cards.filter((c) => c.state === 'posted'), unsettled: cards.filter((c) => c.state !== 'posted') };
  }

  /** Every row of the action, notices included. */
  async forAction(actionId: string): Promise<ChannelCardRecord[]> {
    const rows = await this.sql.query<ChannelCard>`SELECT * FROM "ChannelCard" WHERE "actionId" = ${actionId} ORDER BY "createdAt", id`;
    return rows.map(toCard);
  }
}
