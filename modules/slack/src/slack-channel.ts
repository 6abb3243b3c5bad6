import type { Logger } from 'pino';
import { z } from 'zod';
import { ChannelError, type ApprovalChannel, type CardModel, type CardRef, type ChannelTarget, type ConfigView, type Notice, type PostCardOptions } from '@countersign/core';
import { noticeBlocks, reminderBlocks, renderCard } from './blocks/card-blocks.ts';
import type { ChannelNames } from './channel-names.ts';
import { slackChannel, slackUserIdOf } from './definition.ts';
import { slackDirectory } from './identity.ts';
import type { SlackApi } from './slack-api.ts';

// The Slack side of ApprovalChannel, called by the queue's jobs. Every failure leaves as a
// ChannelError (SlackApi maps it), so the job knows whether to retry and after how long.
//
// Targets: channel ids (C…/G…) are used as they are; "#name" (or a bare lowercase name) is
// resolved to an id with conversations.list; a directory person is reached by DM, their Slack
// user id taken from the directory, else from users.lookupByEmail. A target is the stable
// thing the rule names (channel id, or the person's user id): the DM channel is opened when
// posting, so the (action, channel, target) card row never depends on Slack's DM ids.
//
// Every card and notice carries message metadata naming its card id, so a post whose answer
// was lost (a timeout, a 5xx) can be found again with conversations.history (findCard)
// instead of being posted twice.

const CHANNEL_ID = /^[CG][A-Z0-9]{2,}$/;
const USER_ID = /^[UW][A-Z0-9]{2,}$/;
const CHANNEL_NAME = /^#?([a-z0-9][a-z0-9._-]{0,79})$/;
/** Message metadata event type of countersign's cards and notices (event_payload.card_id). */
export const CARD_EVENT_TYPE = 'countersign_card';
/** conversations.history pages looked through for an unconfirmed post (200 messages each). */
const MAX_HISTORY_PAGES = 5;
/**
 * How long a users.lookupByEmail answer is reused. The answer records parties (accountOf), so
 * a stale one (a mailbox given to someone else) would bind the wrong account: kept short, and
 * a lookup per minute per person stays well under the method's rate limit (Tier 3).
 */
const LOOKUP_TTL_MS = 60_000;

/** Where a posted card lives: what chat.update and thread replies need. */
const SlackCardRefSchema = z.object({ channel: z.string().min(1), ts: z.string().min(1) });
export type SlackCardRef = z.output<typeof SlackCardRefSchema>;

export interface SlackChannelDeps {
  api: SlackApi;
  config: ConfigView;
  names: ChannelNames;
  logger: Logger;
  /** The service's URL, for the card's link to the full request in the console. */
  publicUrl?: () => string;
}

export class SlackChannel implements ApprovalChannel {
  readonly name = slackChannel.name;
  private readonly userIdByEmail = new Map<string, { userId: string; at: number }>();
  /** The bot's DM with each user, as an answer or one in flight (notices to one person at once open it once). */
  private readonly dmByUser = new Map<string, Promise<string>>();

  constructor(private readonly deps: SlackChannelDeps) {}

  private links(): { publicUrl?: string } {
    return this.deps.publicUrl ? { publicUrl: this.deps.publicUrl() } : {};
  }

  async resolveTargets(hints: { channels: string[]; people: string[] }): Promise<ChannelTarget[]> {
    const targets = new Map<string, ChannelTarget>();
    for (const raw of hints.channels) {
      const hint = raw.trim();
      const id = await this.channelId(hint);
      // A name the workspace does not have is a policy mistake: the other targets are still
      // asked, and the queue records this one as a failed card and counts it.
      if (id === null) {
        this.deps.logger.debug({ channel: hint, code: 'channel_not_found' }, 'Slack channel named by the rule not found');
        targets.set(`problem:${hint}`, { target: hint, problem: { code: 'channel_not_found', message: `the workspace has no channel ${hint}` } });
      } else if (!targets.has(id)) targets.set(id, { target: id });
    }
    for (const personId of hints.people) {
      const userId = await this.userIdOf(personId);
      if (userId === null) {
        this.deps.logger.debug({ personId, code: 'user_not_found' }, 'person named by the rule has no Slack account');
        targets.set(`problem:person/${personId}`, { target: `person/${personId}`, personId, problem: { code: 'user_not_found', message: `${personId} has no Slack account in this workspace` } });
      } else if (!targets.has(userId)) targets.set(userId, { target: userId, personId });
    }
    return [...targets.values()];
  }

  async postCard(card: CardModel, target: ChannelTarget, options: PostCardOptions = {}): Promise<CardRef> {
    const channel = await this.conversationFor(target.target);
    const { text, blocks } = renderCard(card, this.links());
    const res = await this.deps.api.call('chat.postMessage', (c) =>
      c.chat.postMessage({ channel, text, blocks, unfurl_links: false, unfurl_media: false, ...cardMetadata(options.cardId) }),
    );
    // ok:true without the message's place leaves open whether it went out, as a garbled answer
    // does (lean-web-client.ts): in doubt, so the card is looked for by its id before any repost.
    if (!res.channel || !res.ts) throw new ChannelError('Slack chat.postMessage: no channel/ts in the answer', true, 'bad_response', undefined, { ambiguous: true });
    const ref: SlackCardRef = { channel: res.channel, ts: res.ts };
    return ref;
  }

  async updateCard(card: CardModel, ref: CardRef): Promise<void> {
    const { channel, ts } = parseRef(ref);
    const { text, blocks } = renderCard(card, this.links());
    await this.deps.api.call('chat.update', (c) => c.chat.update({ channel, ts, text, blocks }));
  }

  async remind(_card: CardModel, ref: CardRef, text: string): Promise<void> {
    const { channel, ts } = parseRef(ref);
    // The reminder quotes the agent's summary: plain_text blocks, and a fallback read without mrkdwn.
    await this.deps.api.call('chat.postMessage', (c) => c.chat.postMessage({ channel, thread_ts: ts, ...reminderBlocks(text), unfurl_links: false }));
  }

  async notifyPerson(personId: string, notice: Notice): Promise<boolean> {
    const userId = await this.userIdOf(personId);
    if (userId === null) return false;
    const channel = await this.conversationFor(userId);
    // The notice quotes the agent's summary and a person's reason: plain_text blocks, fallback without mrkdwn.
    const message = noticeBlocks(notice.text, notice.card);
    await this.deps.api.call('chat.postMessage', (c) => c.chat.postMessage({ channel, ...message, unfurl_links: false, ...cardMetadata(notice.cardId) }));
    return true;
  }

  /**
   * The message stamped with `cardId` in the target's conversation since `since`, or null.
   * Needs the history scopes (channels:history, groups:history, im:history); without them
   * Slack answers missing_scope and the queue posts again rather than not at all.
   */
  async findCard(target: ChannelTarget, cardId: string, since: Date): Promise<CardRef | null> {
    const channel = await this.conversationFor(target.target);
    const oldest = String(Math.max(0, Math.floor(since.getTime() / 1000)));
    let cursor: string | undefined;
    for (let page = 0; page < MAX_HISTORY_PAGES; page++) {
      const res = await this.deps.api.call('conversations.history', (c) =>
        c.conversations.history({ channel, oldest, include_all_metadata: true, limit: 200, ...(cursor ? { cursor } : {}) }),
      );
      for (const m of res.messages ?? []) {
        if (m.ts && m.metadata?.event_type === CARD_EVENT_TYPE && (m.metadata.event_payload as { card_id?: unknown } | undefined)?.card_id === cardId) {
          const ref: SlackCardRef = { channel, ts: m.ts };
          return ref;
        }
      }
      cursor = res.response_metadata?.next_cursor || undefined;
      if (!res.has_more || !cursor) return null;
    }
    this.deps.logger.warn({ channel, cardId }, 'too many messages since the unconfirmed post to look through; treating it as not posted');
    return null;
  }

  /** Removes a card of ours (a duplicate); one that is already gone is fine. */
  async deleteCard(ref: CardRef): Promise<void> {
    const { channel, ts } = parseRef(ref);
    try {
      await this.deps.api.call('chat.delete', (c) => c.chat.delete({ channel, ts }));
    } catch (err) {
      if (err instanceof ChannelError && err.code === 'message_not_found') return;
      throw err;
    }
  }

  async accountOf(personId: string): Promise<string | null> {
    const userId = await this.userIdOf(personId);
    return userId === null ? null : `${slackChannel.name}:${userId}`;
  }

  private async channelId(hint: string): Promise<string | null> {
    if (CHANNEL_ID.test(hint)) return hint;
    const name = CHANNEL_NAME.exec(hint)?.[1];
    if (!name) return null;
    return this.deps.names.idOf(name);
  }

  /** A directory person's Slack user id; null when they have none (not retryable). */
  private async userIdOf(personId: string): Promise<string | null> {
    const person = slackDirectory(this.deps.config).person(personId);
    if (!person) return null;
    const pinned = slackUserIdOf(person);
    if (pinned) return pinned;
    const email = person.email.toLowerCase();
    const cached = this.userIdByEmail.get(email);
    if (cached && Date.now() - cached.at < LOOKUP_TTL_MS) return cached.userId;
    try {
      const res = await this.deps.api.call('users.lookupByEmail', (c) => c.users.lookupByEmail({ email }));
      const id = res.user?.id;
      if (!id) return null;
      this.userIdByEmail.set(email, { userId: id, at: Date.now() });
      return id;
    } catch (err) {
      if (err instanceof ChannelError && err.code === 'users_not_found') return null;
      throw err;
    }
  }

  /** A channel id as is; a user id → the bot's DM with them (conversations.open, cached). */
  private async conversationFor(target: string): Promise<string> {
    if (!USER_ID.test(target)) return target;
    const cached = this.dmByUser.get(target);
    if (cached) return cached;
    const opening = this.deps.api.call('conversations.open', (c) => c.conversations.open({ users: target })).then((res) => {
      const id = res.channel?.id;
      if (!id) throw new ChannelError('Slack conversations.open: no channel in the answer', false, 'bad_response');
      return id;
    });
    this.dmByUser.set(target, opening);
    // A failed open is not remembered: the next notice asks again.
    opening.catch(() => {
      if (this.dmByUser.get(target) === opening) this.dmByUser.delete(target);
    });
    return opening;
  }
}

/** Slack message metadata naming the card, so the post can be found again (findCard). */
function cardMetadata(cardId: string | undefined): { metadata?: { event_type: string; event_payload: { card_id: string } } } {
  return cardId ? { metadata: { event_type: CARD_EVENT_TYPE, event_payload: { card_id: cardId } } } : {};
}

function parseRef(ref: CardRef): SlackCardRef {
  const parsed = SlackCardRefSchema.safeParse(ref);
  if (!parsed.success) throw new ChannelError('not a Slack card reference', false, 'bad_card_ref');
  return parsed.data;
}
