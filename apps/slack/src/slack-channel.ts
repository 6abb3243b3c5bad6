import type { Logger } from 'pino';
import { z } from 'zod';
import { ChannelError, type ApprovalChannel, type CardModel, type CardRef, type ChannelTarget, type ConfigView, type Notice } from '@countersign/core';
import { noticeBlocks, reminderText, renderCard } from './blocks/card-blocks.ts';
import type { ChannelNames } from './channel-names.ts';
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

const CHANNEL_ID = /^[CG][A-Z0-9]{2,}$/;
const USER_ID = /^[UW][A-Z0-9]{2,}$/;
const CHANNEL_NAME = /^#?([a-z0-9][a-z0-9._-]{0,79})$/;

/** Where a posted card lives: what chat.update and thread replies need. */
const SlackCardRefSchema = z.object({ channel: z.string().min(1), ts: z.string().min(1) });
export type SlackCardRef = z.output<typeof SlackCardRefSchema>;

export interface SlackChannelDeps {
  api: SlackApi;
  config: ConfigView;
  names: ChannelNames;
  logger: Logger;
}

export class SlackChannel implements ApprovalChannel {
  readonly name = 'slack' as const;
  private readonly userIdByEmail = new Map<string, string>();
  private readonly dmByUser = new Map<string, string>();

  constructor(private readonly deps: SlackChannelDeps) {}

  async resolveTargets(hints: { channels: string[]; people: string[] }): Promise<ChannelTarget[]> {
    const targets = new Map<string, ChannelTarget>();
    for (const hint of hints.channels) {
      const id = await this.channelId(hint.trim());
      // A name the workspace does not have is a policy mistake: the other targets are still
      // asked, and the mistake is logged loudly rather than blocking the whole escalation.
      if (id === null) this.deps.logger.error({ channel: hint, code: 'channel_not_found' }, 'Slack channel named by the rule not found; not asked');
      else if (!targets.has(id)) targets.set(id, { target: id });
    }
    for (const personId of hints.people) {
      const userId = await this.userIdOf(personId);
      if (userId === null) this.deps.logger.error({ personId, code: 'user_not_found' }, 'person named by the rule has no Slack account; not asked in Slack');
      else if (!targets.has(userId)) targets.set(userId, { target: userId, personId });
    }
    return [...targets.values()];
  }

  async postCard(card: CardModel, target: ChannelTarget): Promise<CardRef> {
    const channel = await this.conversationFor(target.target);
    const { text, blocks } = renderCard(card);
    const res = await this.deps.api.call('chat.postMessage', (c) => c.chat.postMessage({ channel, text, blocks, unfurl_links: false, unfurl_media: false }));
    if (!res.channel || !res.ts) throw new ChannelError('Slack chat.postMessage: no channel/ts in the answer', false, 'bad_response');
    const ref: SlackCardRef = { channel: res.channel, ts: res.ts };
    return ref;
  }

  async updateCard(card: CardModel, ref: CardRef): Promise<void> {
    const { channel, ts } = parseRef(ref);
    const { text, blocks } = renderCard(card);
    await this.deps.api.call('chat.update', (c) => c.chat.update({ channel, ts, text, blocks }));
  }

  async remind(_card: CardModel, ref: CardRef, text: string): Promise<void> {
    const { channel, ts } = parseRef(ref);
    await this.deps.api.call('chat.postMessage', (c) => c.chat.postMessage({ channel, thread_ts: ts, text: reminderText(text), unfurl_links: false }));
  }

  async notifyPerson(personId: string, notice: Notice): Promise<boolean> {
    const userId = await this.userIdOf(personId);
    if (userId === null) return false;
    const channel = await this.conversationFor(userId);
    const { text, blocks } = noticeBlocks(notice.text, notice.card);
    await this.deps.api.call('chat.postMessage', (c) => c.chat.postMessage({ channel, text, blocks, unfurl_links: false }));
    return true;
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
    if (person.slack) return person.slack.userId;
    const email = person.email.toLowerCase();
    const cached = this.userIdByEmail.get(email);
    if (cached) return cached;
    try {
      const res = await this.deps.api.call('users.lookupByEmail', (c) => c.users.lookupByEmail({ email }));
      const id = res.user?.id;
      if (!id) return null;
      this.userIdByEmail.set(email, id);
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
    const res = await this.deps.api.call('conversations.open', (c) => c.conversations.open({ users: target }));
    const id = res.channel?.id;
    if (!id) throw new ChannelError('Slack conversations.open: no channel in the answer', false, 'bad_response');
    this.dmByUser.set(target, id);
    return id;
  }
}

function parseRef(ref: CardRef): SlackCardRef {
  const parsed = SlackCardRefSchema.safeParse(ref);
  if (!parsed.success) throw new ChannelError('not a Slack card reference', false, 'bad_card_ref');
  return parsed.data;
}
