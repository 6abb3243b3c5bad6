import type { CloudAdapter, ConversationReference, TurnContext } from 'botbuilder';
import type { Logger } from 'pino';
import { ChannelError, type ApprovalChannel, type CardModel, type CardRef, type ChannelTarget, type ConfigView, type Notice } from '@countersign/core';
import { buildAdaptiveCard, cardAttachment, plain, shorten } from './cards/adaptive-card.ts';
import { baseConversationId, type ConversationStore } from './conversations.ts';
import { toChannelError } from './errors.ts';
import { teamsChannel, teamsIdOf } from './definition.ts';
import { teamsDirectory } from './identity.ts';
import { textMessage } from './message-text.ts';
import { resolveTeamsTargets } from './targets.ts';

// Teams behind the engine's ApprovalChannel interface. Everything is proactive: the bot speaks
// in a stored conversation (continueConversationAsync) and remembers where each card is
// (conversation id + activity id + serviceUrl) so the queue can update it later.

export interface TeamsCardRef {
  conversationId: string;
  activityId: string;
  serviceUrl: string;
}

export interface TeamsChannelDeps {
  adapter: CloudAdapter;
  appId: string;
  tenantId: string;
  conversations: ConversationStore;
  config: ConfigView;
  logger: Logger;
  /** The service's URL, for the card's link to the full request in the console. */
  publicUrl?: () => string;
}

function asRef(ref: CardRef): TeamsCardRef {
  const { conversationId, activityId, serviceUrl } = ref as Partial<TeamsCardRef>;
  if (typeof conversationId !== 'string' || typeof activityId !== 'string' || typeof serviceUrl !== 'string') {
    throw new ChannelError('Not a Teams card reference', false, 'invalid_ref');
  }
  return { conversationId, activityId, serviceUrl };
}

const TEAMS_PROBLEMS: Record<'not_an_id' | 'not_installed' | 'unknown_person' | 'no_personal_chat', (hint: string) => string> = {
  not_an_id: (h) => `"${h}" is not a Teams id; Teams places are matched by conversation id, never by team or channel name`,
  not_installed: (h) => `the bot is not installed in a Teams conversation matching "${h}"`,
  unknown_person: (h) => `no person "${h}" in the directory`,
  no_personal_chat: (h) => `${h} has not installed the bot in a personal chat`,
};

export class TeamsChannel implements ApprovalChannel {
  readonly name = teamsChannel.name;

  constructor(private readonly deps: TeamsChannelDeps) {}

  private links(): { publicUrl?: string } {
    return this.deps.publicUrl ? { publicUrl: this.deps.publicUrl() } : {};
  }

  async resolveTargets(hints: { channels: string[]; people: string[] }): Promise<ChannelTarget[]> {
    const records = await this.deps.conversations.list(this.deps.tenantId);
    const directory = teamsDirectory(this.deps.config.current().directory);
    const { targets, unresolved } = resolveTeamsTargets({
      hints,
      records,
      teamsIdOf: (personId) => {
        const person = directory.person(personId);
        return person ? (teamsIdOf(person) ?? null) : undefined;
      },
    });
    const problems: ChannelTarget[] = [];
    for (const u of unresolved) {
      // People without a Teams id are simply asked elsewhere (Slack, API): not a mistake.
      if (u.why === 'no_teams_identity') {
        this.deps.logger.debug({ hint: u.hint, why: u.why }, 'Teams target not resolved');
        continue;
      }
      // The rest is misconfiguration or a missing install: returned as problem targets so the
      // queue records a failed card and counts it, visible beyond a log line.
      const person = u.why === 'unknown_person' || u.why === 'no_personal_chat';
      problems.push({
        target: person ? `person/${u.hint}` : u.hint,
        ...(person ? { personId: u.hint } : {}),
        problem: { code: `teams_${u.why}`, message: TEAMS_PROBLEMS[u.why](u.hint) },
      });
    }
    return [...targets, ...problems];
  }

  async postCard(card: CardModel, target: ChannelTarget): Promise<CardRef> {
    const reference = await this.referenceFor(target.target);
    const activityId = await this.speak(reference, 'posting a card', async (context) => {
      const sent = await context.sendActivity({
        type: 'message',
        summary: `Approval needed: ${plain(shorten(card.actionType, 200))}`,
        attachments: [cardAttachment(buildAdaptiveCard(card, {}, this.links()))],
      });
      return sent?.id;
    });
    // A 2xx without an id (a proxy's page, a cut answer: the SDK reads a body that is not JSON
    // as {}) leaves open whether Teams took the card, like a gateway's 502: in doubt, not given
    // up, so the queue posts it again (a card maybe twice, never none; see errors.ts).
    if (!activityId) throw new ChannelError('Teams answered the card post without an activity id', true, 'no_activity_id', undefined, { ambiguous: true });
    const ref: TeamsCardRef = { conversationId: reference.conversation.id, activityId, serviceUrl: reference.serviceUrl };
    return { ...ref };
  }

  async updateCard(card: CardModel, cardRef: CardRef): Promise<void> {
    const ref = asRef(cardRef);
    const reference = await this.referenceFor(ref.conversationId);
    await this.speak(reference, 'updating a card', async (context) => {
      await context.updateActivity({
        type: 'message',
        id: ref.activityId,
        conversation: reference.conversation,
        attachments: [cardAttachment(buildAdaptiveCard(card, {}, this.links()))],
      });
      return undefined;
    });
  }

  async remind(_card: CardModel, cardRef: CardRef, text: string): Promise<void> {
    const ref = asRef(cardRef);
    const reference = await this.referenceFor(ref.conversationId);
    // In a channel, ";messageid=" addresses the card's thread: the reminder is a reply to it.
    const threaded: Partial<ConversationReference> =
      reference.conversation.conversationType === 'channel'
        ? { ...reference, conversation: { ...reference.conversation, id: `${reference.conversation.id};messageid=${ref.activityId}` } }
        : reference;
    await this.speak(threaded as ConversationReference, 'sending a reminder', async (context) => {
      await context.sendActivity(textMessage(text));
      return undefined;
    }, ref.activityId);
  }

  async notifyPerson(personId: string, notice: Notice): Promise<boolean> {
    const person = this.deps.config.current().directory.person(personId);
    const aad = person && teamsIdOf(person);
    if (!aad) return false;
    const chat = await this.deps.conversations.personal(this.deps.tenantId, aad);
    if (!chat) return false;
    await this.speak(chat.reference as ConversationReference, 'notifying a person', async (context) => {
      await context.sendActivity({ ...textMessage(notice.text), attachments: [cardAttachment(buildAdaptiveCard(notice.card, {}, this.links()))] });
      return undefined;
    });
    return true;
  }

  /**
   * The stored reference (refreshed on every installation event and message): its serviceUrl
   * is the latest Teams gave us, the one to use even for a card posted earlier.
   */
  private async referenceFor(conversationId: string): Promise<ConversationReference> {
    const rec = await this.deps.conversations.get(conversationId);
    if (!rec) {
      throw new ChannelError(`No Teams conversation ${baseConversationId(conversationId)} is known: the bot is not installed there (any more)`, false, 'conversation_gone');
    }
    return rec.reference as ConversationReference;
  }

  /** Runs one proactive turn; any failure inside it becomes a ChannelError for the queue. */
  private async speak<T>(
    reference: ConversationReference,
    what: string,
    fn: (context: TurnContext) => Promise<T>,
    replyToId: string | null = null,
  ): Promise<T> {
    let result: T | undefined;
    let failure: unknown;
    try {
      await this.deps.adapter.continueConversationAsync(this.deps.appId, reference, async (context) => {
        // A proactive turn addresses its messages as replies to the synthetic continuation
        // activity; a new card must be a new message, a reminder a reply to the card.
        context.onSendActivities(async (_ctx, activities, next) => {
          for (const a of activities) {
            if (replyToId) a.replyToId = replyToId;
            else delete a.replyToId;
          }
          return next();
        });
        try {
          result = await fn(context);
        } catch (err) {
          // Caught here, not in the adapter's onTurnError (that one is for inbound turns).
          failure = err;
        }
      });
    } catch (err) {
      failure = err;
    }
    if (failure !== undefined) {
      const e = toChannelError(failure, what);
      this.deps.logger.warn({ code: e.code, retryable: e.retryable, retryAfterMs: e.retryAfterMs }, `Teams ${what} failed`);
      throw e;
    }
    return result as T;
  }
}
