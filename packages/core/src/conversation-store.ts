// Where a chat channel may post without being spoken to first: the conversation references it
// captured when it was installed or heard from (Teams posts proactively this way). The channel
// keeps the logic (which id is canonical, what a reference holds); packages/db keeps the rows.

export type ConversationKind = 'personal' | 'channel' | 'groupChat';

export interface StoredConversation {
  /** The channel's own conversation id, as the channel normalised it. */
  id: string;
  kind: ConversationKind;
  /** The organisation's tenant in the channel (lower-case). */
  tenantId: string;
  teamId: string | null;
  teamName: string | null;
  channelName: string | null;
  /** Personal chats: the person's id at the channel's identity provider (lower-case). */
  userId: string | null;
  /** The channel's reference for posting there (JSON the channel reads back as it wrote it). */
  reference: unknown;
}

export interface ConversationRepository {
  /** Inserts or replaces the conversation with this id. */
  save(conversation: StoredConversation): Promise<void>;
  get(id: string): Promise<StoredConversation | null>;
  /** Every conversation of a tenant, by id. */
  list(tenantId: string): Promise<StoredConversation[]>;
  /** The person's most recently updated personal chat. */
  personal(tenantId: string, userId: string): Promise<StoredConversation | null>;
  renameTeam(teamId: string, teamName: string): Promise<void>;
  remove(id: string): Promise<void>;
  /** Every conversation of a team (its channels). */
  removeTeam(teamId: string): Promise<void>;
}
