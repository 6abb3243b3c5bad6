import { randomBytes } from 'node:crypto';
import type { ChannelCard, Prisma, PrismaClient } from './generated/prisma/client.ts';

// Approval cards and requester notices, one row per (action, channel, target). The unique
// index is what makes a retried or stalled job never post twice: a job must CLAIM the row
// before calling the channel, and a claim is granted to one caller at a time.
//
// States: claimed → posted (a card) | sent / unreachable (a notice) | failed (the channel said
// retrying cannot help) | retry (a retryable failure gave the claim back). A claim left by a
// worker that died mid-call is taken over once its lease has run out; only then, and only if
// the channel had already accepted the message, can one message appear twice.

export type CardState = 'claimed' | 'posted' | 'failed' | 'retry' | 'sent' | 'unreachable';

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

/** Requester notices share the table: their target is `notice/<status>/<personId>`. */
export function noticeTarget(status: string, personId: string): string {
  return `notice/${status}/${personId}`;
}

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

export class PrismaCardStore {
  constructor(private readonly prisma: PrismaClient) {}

  /**
   * Claims the row for one channel call. Granted when the row is new, was given back
   * (`retry`), or is `claimed` by someone whose lease (database time) ran out; otherwise the
   * current row is returned so the caller can tell posted / failed / busy apart.
   */
  async claim(key: CardKey, leaseMs: number): Promise<ClaimResult> {
    const id = `card_${randomBytes(10).toString('hex')}`;
    const rows = await this.prisma.$queryRaw<ChannelCard[]>`
      INSERT INTO "ChannelCard" (id, "actionId", channel, target, state, tier, "createdAt", "updatedAt")
      VALUES (${id}, ${key.actionId}, ${key.channel}, ${key.target}, 'claimed', ${key.tier}, now(), now())
      ON CONFLICT ("actionId", channel, target) DO UPDATE
        SET state = 'claimed', "updatedAt" = now()
        WHERE "ChannelCard".state = 'retry'
           OR ("ChannelCard".state = 'claimed' AND "ChannelCard"."updatedAt" < now() - make_interval(secs => ${leaseMs / 1000}))
      RETURNING *`;
    if (rows[0]) return { claimed: true, card: toCard(rows[0]) };
    const current = await this.prisma.channelCard.findUnique({
      where: { actionId_channel_target: { actionId: key.actionId, channel: key.channel, target: key.target } },
    });
    // The row existed a moment ago and rows are never deleted.
    if (!current) throw new Error(`channel card ${key.channel}/${key.target} of ${key.actionId} vanished while claiming`);
    return { claimed: false, card: toCard(current) };
  }

  /** The card is in the channel; false when our claim had been taken over meanwhile. */
  async markPosted(id: string, messageRef: Record<string, unknown>): Promise<boolean> {
    const { count } = await this.prisma.channelCard.updateMany({
      where: { id, state: 'claimed' },
      data: { state: 'posted', messageRef: messageRef as Prisma.InputJsonValue, error: null },
    });
    return count === 1;
  }

  /** A notice went out (`reached`) or the channel cannot reach the person. */
  async markNotified(id: string, reached: boolean): Promise<boolean> {
    const { count } = await this.prisma.channelCard.updateMany({
      where: { id, state: 'claimed' },
      data: { state: reached ? 'sent' : 'unreachable', error: null },
    });
    return count === 1;
  }

  /** Retrying cannot help (unknown channel, invalid blocks): never tried again. */
  async markFailed(id: string, error: string): Promise<void> {
    await this.prisma.channelCard.updateMany({ where: { id, state: 'claimed' }, data: { state: 'failed', error: error.slice(0, MAX_ERROR) } });
  }

  /** Gives a claim back after a retryable failure, so the next attempt can claim it at once. */
  async release(id: string, error: string | null): Promise<void> {
    await this.prisma.channelCard.updateMany({ where: { id, state: 'claimed' }, data: { state: 'retry', error: error?.slice(0, MAX_ERROR) ?? null } });
  }

  /** Remembers the last failure of a posted card (an update that could not be applied). */
  async recordError(id: string, error: string): Promise<void> {
    await this.prisma.channelCard.update({ where: { id }, data: { error: error.slice(0, MAX_ERROR) } });
  }

  /** The action's cards that are in a channel (notices excluded), oldest first. */
  async posted(actionId: string): Promise<ChannelCardRecord[]> {
    const rows = await this.prisma.channelCard.findMany({ where: { actionId, state: 'posted' }, orderBy: { createdAt: 'asc' } });
    return rows.map(toCard);
  }

  /** Every row of the action, notices included. */
  async forAction(actionId: string): Promise<ChannelCardRecord[]> {
    const rows = await this.prisma.channelCard.findMany({ where: { actionId }, orderBy: { createdAt: 'asc' } });
    return rows.map(toCard);
  }
}
