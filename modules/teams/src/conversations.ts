import type { Activity, ConversationReference } from 'botbuilder';
import type { ConversationKind, ConversationRepository, StoredConversation } from '@countersign/core';

// Where the bot may speak: a conversation reference is captured whenever the bot is installed
// (team, group chat, personal scope) or hears from a conversation, and kept through the
// engine's ConversationRepository. Posting is proactive, so without a stored reference there is
// nowhere to post.

/**
 * The engine's stored conversation in Teams' words: the person id is the AAD object id, and the
 * reference is a botbuilder ConversationReference.
 */
export type ConversationRecord = Omit<StoredConversation, 'userId' | 'reference'> & {
  /** Personal chats: the user's AAD object id (lower-case). */
  aadObjectId: string | null;
  reference: Partial<ConversationReference>;
};

/** Teams sends the General channel without a name. */
export const GENERAL_CHANNEL = 'General';

interface TeamsChannelDataLike {
  tenant?: { id?: string };
  team?: { id?: string; name?: string; aadGroupId?: string };
  channel?: { id?: string; name?: string };
}

export function channelDataOf(activity: Partial<Activity>): TeamsChannelDataLike {
  const data = activity.channelData as unknown;
  return data && typeof data === 'object' ? (data as TeamsChannelDataLike) : {};
}

/**
 * The activity's tenant, from channelData.tenant.id and conversation.tenantId. Both are checked
 * when present: if they disagree the activity has no trustworthy tenant (null). Only Teams
 * vouches for them: a Direct Line or Web Chat client on the same bot registration writes its
 * own channelData and `from`, so any other channelId has no tenant at all (and nothing counts).
 */
export function tenantOf(activity: Partial<Activity>): string | null {
  if (activity.channelId !== 'msteams') return null;
  const fromChannelData = channelDataOf(activity).tenant?.id?.toLowerCase();
  const fromConversation = activity.conversation?.tenantId?.toLowerCase();
  if (fromChannelData && fromConversation && fromChannelData !== fromConversation) return null;
  return fromChannelData ?? fromConversation ?? null;
}

export function baseConversationId(id: string): string {
  const cut = id.indexOf(';messageid=');
  return cut === -1 ? id : id.slice(0, cut);
}

function referenceOf(activity: Partial<Activity>, conversationId: string): Partial<ConversationReference> {
  // The same shape TurnContext.getConversationReference builds, minus the user for shared
  // conversations (a proactive post is not addressed to whoever installed the bot).
  const personal = activity.conversation?.conversationType === 'personal';
  return {
    channelId: activity.channelId,
    serviceUrl: activity.serviceUrl,
    locale: activity.locale,
    bot: activity.recipient,
    ...(personal && activity.from ? { user: { id: activity.from.id, name: activity.from.name, aadObjectId: activity.from.aadObjectId } } : {}),
    conversation: {
      id: conversationId,
      isGroup: !personal,
      conversationType: activity.conversation?.conversationType ?? (personal ? 'personal' : 'channel'),
      tenantId: activity.conversation?.tenantId ?? tenantOf(activity) ?? undefined,
      name: '',
    },
  };
}

/** The conversation an activity came from, as a record to store (null when it has none). */
export function recordFromActivity(activity: Partial<Activity>): ConversationRecord | null {
  const tenantId = tenantOf(activity);
  const rawId = activity.conversation?.id;
  if (!tenantId || !rawId || !activity.serviceUrl) return null;
  const id = baseConversationId(rawId);
  const type = activity.conversation?.conversationType;
  const data = channelDataOf(activity);
  if (type === 'personal') {
    const aad = activity.from?.aadObjectId?.toLowerCase() ?? null;
    return { id, kind: 'personal', tenantId, teamId: null, teamName: null, channelName: null, aadObjectId: aad, reference: referenceOf(activity, id) };
  }
  if (type === 'channel' || data.team?.id) {
    const teamId = data.team?.id ?? null;
    // channelData.channel may describe another channel (channelCreated arrives in General);
    // its name is this conversation's only when the ids agree. General has the team's id and no name.
    const own = data.channel?.id && baseConversationId(data.channel.id) === id ? data.channel : undefined;
    const channelName = own?.name ?? (teamId && id === teamId ? GENERAL_CHANNEL : null);
    return { id, kind: 'channel', tenantId, teamId, teamName: data.team?.name ?? null, channelName, aadObjectId: null, reference: referenceOf(activity, id) };
  }
  return { id, kind: 'groupChat', tenantId, teamId: null, teamName: null, channelName: null, aadObjectId: null, reference: referenceOf(activity, id) };
}

/** Another channel of the same team, derived from a team activity and the team's channel list. */
export function channelRecord(team: ConversationRecord, channel: { id?: string; name?: string }): ConversationRecord | null {
  if (!channel.id || !team.teamId) return null;
  const id = baseConversationId(channel.id);
  return {
    ...team,
    id,
    kind: 'channel',
    channelName: channel.name ?? (id === team.teamId ? GENERAL_CHANNEL : null),
    reference: { ...team.reference, conversation: { ...team.reference.conversation!, id } },
  };
}

/**
 * The conversations the bot may post to, kept through the engine's ConversationRepository
 * (packages/db stores them). Here only Teams' rules: a conversation is stored under its base id
 * (without ";messageid="), tenants and AAD object ids in lower case.
 */
export class ConversationStore {
  constructor(private readonly repository: ConversationRepository) {}

  save(rec: ConversationRecord): Promise<void> {
    const { aadObjectId, ...rest } = rec;
    return this.repository.save({ ...rest, userId: aadObjectId });
  }

  async get(id: string): Promise<ConversationRecord | null> {
    const stored = await this.repository.get(baseConversationId(id));
    return stored ? toRecord(stored) : null;
  }

  async list(tenantId: string): Promise<ConversationRecord[]> {
    return (await this.repository.list(tenantId.toLowerCase())).map(toRecord);
  }

  async personal(tenantId: string, aadObjectId: string): Promise<ConversationRecord | null> {
    const stored = await this.repository.personal(tenantId.toLowerCase(), aadObjectId.toLowerCase());
    return stored ? toRecord(stored) : null;
  }

  renameTeam(teamId: string, teamName: string): Promise<void> {
    return this.repository.renameTeam(teamId, teamName);
  }

  remove(id: string): Promise<void> {
    return this.repository.remove(baseConversationId(id));
  }

  /** The bot left the team (or the team is gone): none of its channels can be posted to. */
  removeTeam(teamId: string): Promise<void> {
    return this.repository.removeTeam(teamId);
  }
}

function toRecord({ userId, reference, ...rest }: StoredConversation): ConversationRecord {
  return { ...rest, aadObjectId: userId, reference: reference as Partial<ConversationReference> };
}
