import {
  ActivityTypes,
  TeamsActivityHandler,
  TeamsInfo,
  type AdaptiveCardInvokeResponse,
  type AdaptiveCardInvokeValue,
  type TurnContext,
} from 'botbuilder';
import type { Logger } from 'pino';
import { answerCardActionSafely, type CardActionDeps } from './card-action.ts';
import { channelRecord, ConversationStore, recordFromActivity, tenantOf, type ConversationRecord } from './conversations.ts';
import { statusOf } from './errors.ts';
import type { RosterMember } from './identity.ts';

// The bot's turn logic: remember where it was installed, forget where it was removed, and
// answer card actions. Every activity from another tenant is ignored (an invoke is refused).

export interface BotDeps extends CardActionDeps {
  conversations: ConversationStore;
  logger: Logger;
}

const HELP =
  'countersign posts approval cards here when a policy rule asks for approval. Approve or deny on the card; your identity and roles are checked against the countersign directory.';

export class CountersignTeamsBot extends TeamsActivityHandler {
  constructor(private readonly deps: BotDeps) {
    super();

    this.onInstallationUpdateAdd(async (context, next) => {
      await this.remember(context);
      await next();
    });
    this.onInstallationUpdateRemove(async (context, next) => {
      await this.forget(context);
      await next();
    });
    this.onMembersAdded(async (context, next) => {
      if (context.activity.membersAdded?.some((m) => m.id === context.activity.recipient.id)) await this.remember(context);
      await next();
    });
    this.onMembersRemoved(async (context, next) => {
      if (context.activity.membersRemoved?.some((m) => m.id === context.activity.recipient.id)) await this.forget(context);
      await next();
    });
    this.onTeamsChannelCreatedEvent(async (_channel, _team, context, next) => {
      await this.rememberChannel(context);
      await next();
    });
    this.onTeamsChannelRenamedEvent(async (_channel, _team, context, next) => {
      await this.rememberChannel(context);
      await next();
    });
    this.onTeamsChannelRestoredEvent(async (_channel, _team, context, next) => {
      await this.rememberChannel(context);
      await next();
    });
    this.onTeamsChannelDeletedEvent(async (channel, _team, _context, next) => {
      if (channel.id) await this.deps.conversations.remove(channel.id);
      await next();
    });
    this.onTeamsTeamRenamedEvent(async (team, _context, next) => {
      if (team.id && team.name) await this.deps.conversations.renameTeam(team.id, team.name);
      await next();
    });
    const teamGone = async (team: { id?: string }, _context: TurnContext, next: () => Promise<void>) => {
      if (team.id) await this.deps.conversations.removeTeam(team.id);
      await next();
    };
    this.onTeamsTeamDeletedEvent(teamGone);
    this.onTeamsTeamHardDeletedEvent(teamGone);
    this.onTeamsTeamArchivedEvent(teamGone);
    this.onMessage(async (context, next) => {
      // Someone wrote to the bot: a personal chat or group chat becomes reachable this way too.
      const rec = recordFromActivity(context.activity);
      if (rec && rec.kind !== 'channel') await this.deps.conversations.save(rec);
      await context.sendActivity(HELP);
      await next();
    });
  }

  override async run(context: TurnContext): Promise<void> {
    const tenant = tenantOf(context.activity);
    if (tenant !== this.deps.tenantId.toLowerCase()) {
      this.deps.logger.warn({ type: context.activity.type, name: context.activity.name }, 'Teams activity from another tenant ignored');
      if (context.activity.type === ActivityTypes.Invoke) {
        await context.sendActivity({
          type: ActivityTypes.InvokeResponse,
          value: {
            status: 403,
            body: { statusCode: 403, type: 'application/vnd.microsoft.error', value: { code: 'Forbidden', message: 'This bot only takes decisions from its own organisation.' } },
          },
        });
      }
      return;
    }
    await super.run(context);
  }

  protected override async onAdaptiveCardInvoke(context: TurnContext, invokeValue: AdaptiveCardInvokeValue): Promise<AdaptiveCardInvokeResponse> {
    return answerCardActionSafely(this.deps, {
      activity: context.activity,
      verb: invokeValue.action?.verb,
      data: invokeValue.action?.data,
      roster: async (): Promise<RosterMember | null> => {
        try {
          return (await TeamsInfo.getMember(context, context.activity.from.id)) ?? null;
        } catch (err) {
          // Not in the roster is an answer (nobody we know); any other failure is not.
          if (statusOf(err) === 404) return null;
          throw err;
        }
      },
    });
  }

  private async remember(context: TurnContext): Promise<void> {
    const rec = recordFromActivity(context.activity);
    if (!rec) return;
    await this.deps.conversations.save(rec);
    this.deps.logger.info({ kind: rec.kind, teamId: rec.teamId }, 'Teams conversation captured');
    if (rec.kind === 'channel' && rec.teamId) await this.rememberTeamChannels(context, rec);
  }

  /** Installed in a team: every channel of it becomes a place a rule can name. */
  private async rememberTeamChannels(context: TurnContext, team: ConversationRecord): Promise<void> {
    const channels = await TeamsInfo.getTeamChannels(context, team.teamId!);
    for (const channel of channels) {
      const rec = channelRecord(team, channel);
      if (rec) await this.deps.conversations.save(rec);
    }
  }

  private async rememberChannel(context: TurnContext): Promise<void> {
    const rec = recordFromActivity(context.activity);
    const data = context.activity.channelData as { channel?: { id?: string; name?: string } } | undefined;
    if (!rec || !data?.channel) return;
    const channel = channelRecord(rec, data.channel);
    if (channel) await this.deps.conversations.save(channel);
  }

  private async forget(context: TurnContext): Promise<void> {
    const rec = recordFromActivity(context.activity);
    if (!rec) return;
    if (rec.kind === 'channel' && rec.teamId) await this.deps.conversations.removeTeam(rec.teamId);
    else await this.deps.conversations.remove(rec.id);
    this.deps.logger.info({ kind: rec.kind, teamId: rec.teamId }, 'Teams conversation forgotten (bot removed)');
  }
}
