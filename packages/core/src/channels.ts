import type { Person } from '@countersign/contracts';
import type { CardModel } from './cards/card-model.ts';
import type { DirectoryView } from './config-view.ts';

// The one interface every chat channel implements (Slack through Bolt, Teams through
// botbuilder, any plug-in after them). Queue jobs call it; the engine never knows which chat
// tool is on the other side, so replacing botbuilder with Microsoft's successor SDK touches
// only the Teams module. What the organisation's files may say about a channel (its hints,
// its identities) is its ChannelDefinition (@countersign/contracts), registered beside this.

export type { AnyChannelDefinition, ChannelCatalog, ChannelDefinition } from '@countersign/contracts';

/** A channel's name as its ChannelDefinition gives it (lowercase; `slack`, `teams`, …). */
export type ChannelName = string;

/** The directory as channels read it: a channel identity or an email back to a person. */
export interface IdentityDirectory extends DirectoryView {
  /** The person whose identity on `channel` has this key (its definition's `identityKey`). */
  personByIdentity(channel: ChannelName, key: string): Person | undefined;
  /** Case-insensitive; callers insist on exactly one match. */
  peopleByEmail(email: string): Person[];
}

/**
 * The loaded directory with the look-ups channels map clicks with (the engine's own view only
 * promises `person`). Fails closed: without them no channel identity can map to a person.
 */
export function identityDirectory(view: DirectoryView): IdentityDirectory {
  const d = view as Partial<IdentityDirectory> & DirectoryView;
  if (typeof d.personByIdentity !== 'function' || typeof d.peopleByEmail !== 'function') {
    throw new Error('the loaded directory cannot map channel identities (personByIdentity / peopleByEmail missing)');
  }
  return d as IdentityDirectory;
}

/** Where to ask, resolved from the rule's channel hints. */
export interface ChannelTarget {
  /** Where, in the channel's own terms (e.g. a channel id, a user id for a DM, a conversation id). */
  target: string;
  /** A person id when the target is a direct message to that person. */
  personId?: string;
  /**
   * Set when the rule names something this channel cannot reach (a `#name` the workspace does
   * not have, a person without an account there): never posted to; the queue records it as a
   * failed card and counts it, so the mistake is visible beyond a log line.
   */
  problem?: { code: string; message: string };
}

/** What the queue tells a channel when posting, so a post can be found again later. */
export interface PostCardOptions {
  /** The card's stable id (the ChannelCard row): stamped on the message where the channel can. */
  cardId?: string;
}

/** Opaque to everyone but the channel: where the posted card lives, for updates. */
export type CardRef = Record<string, unknown>;

export interface Notice {
  actionId: string;
  text: string;
  card: CardModel;
  /** The notice's stable id (its ChannelCard row), stamped on the message like a card's. */
  cardId?: string;
}

/**
 * Failures a channel reports. `retryable` false means retrying cannot help (invalid blocks,
 * unknown channel, bot removed): the job fails for good and is surfaced in logs and metrics.
 */
export class ChannelError extends Error {
  /**
   * The call may have gone through although it failed (a timeout, a 5xx after the request was
   * sent): a post that failed this way is looked for before it is posted again.
   */
  readonly ambiguous: boolean;

  constructor(
    message: string,
    readonly retryable: boolean,
    readonly code: string,
    readonly retryAfterMs?: number,
    opts: { ambiguous?: boolean } = {},
  ) {
    super(message);
    this.name = 'ChannelError';
    this.ambiguous = opts.ambiguous ?? false;
  }
}

export interface ApprovalChannel {
  /** The name of the ChannelDefinition this implements. */
  readonly name: ChannelName;
  /** Resolves the rule's hints (this channel's places, people) to concrete targets for this channel. */
  resolveTargets(hints: { channels: string[]; people: string[] }): Promise<ChannelTarget[]>;
  postCard(card: CardModel, target: ChannelTarget, options?: PostCardOptions): Promise<CardRef>;
  updateCard(card: CardModel, ref: CardRef): Promise<void>;
  /** A reminder next to an existing card (thread reply / reply in conversation). */
  remind(card: CardModel, ref: CardRef, text: string): Promise<void>;
  /** A direct message to a directory person (e.g. the requester's outcome). */
  notifyPerson(personId: string, notice: Notice): Promise<boolean>;
  /**
   * Optional: the message posted for `cardId` (a card or a notice) at `target` since `since`,
   * or null when there is none. The queue asks before posting again after an ambiguous failure,
   * so a post the chat service accepted but never confirmed is not posted twice. A channel
   * without it is simply posted to again.
   */
  findCard?(target: ChannelTarget, cardId: string, since: Date): Promise<CardRef | null>;
  /**
   * Optional: the directory person's account on this channel as `channel:key` (the key
   * personByIdentity maps from), pinned in the directory or found by their email; null when
   * they have none. Throws ChannelError when the channel cannot tell. Before a card is posted
   * the queue records each party's account with the action, so a party the directory later
   * renames (new id, new mailbox) is still refused when the same account clicks.
   */
  accountOf?(personId: string): Promise<string | null>;
  /** Optional: removes a posted card (a duplicate left behind when a claim was taken over). */
  deleteCard?(ref: CardRef): Promise<void>;
}
