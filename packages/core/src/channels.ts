import type { CardModel } from './cards/card-model.ts';

// The one interface every chat channel implements (Slack through Bolt, Teams through
// botbuilder). Queue jobs call it; the engine never knows which chat tool is on the other
// side, so replacing botbuilder with Microsoft's successor SDK touches only the Teams app.

export type ChannelName = 'slack' | 'teams';

/** Where to ask, resolved from the rule's channel hints. */
export interface ChannelTarget {
  /** Slack: channel id/name or user id (DM); Teams: stored conversation id. */
  target: string;
  /** A person id when the target is a direct message to that person. */
  personId?: string;
}

/** Opaque to everyone but the channel: where the posted card lives, for updates. */
export type CardRef = Record<string, unknown>;

export interface Notice {
  actionId: string;
  text: string;
  card: CardModel;
}

/**
 * Failures a channel reports. `retryable` false means retrying cannot help (invalid blocks,
 * unknown channel, bot removed): the job fails for good and is surfaced in logs and metrics.
 */
export class ChannelError extends Error {
  constructor(
    message: string,
    readonly retryable: boolean,
    readonly code: string,
    readonly retryAfterMs?: number,
  ) {
    super(message);
    this.name = 'ChannelError';
  }
}

export interface ApprovalChannel {
  readonly name: ChannelName;
  /** Resolves the rule's hints (channel names, people) to concrete targets for this channel. */
  resolveTargets(hints: { channels: string[]; people: string[] }): Promise<ChannelTarget[]>;
  postCard(card: CardModel, target: ChannelTarget): Promise<CardRef>;
  updateCard(card: CardModel, ref: CardRef): Promise<void>;
  /** A reminder next to an existing card (thread reply / reply in conversation). */
  remind(card: CardModel, ref: CardRef, text: string): Promise<void>;
  /** A direct message to a directory person (e.g. the requester's outcome). */
  notifyPerson(personId: string, notice: Notice): Promise<boolean>;
}
