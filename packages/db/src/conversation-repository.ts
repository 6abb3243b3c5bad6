import type { ConversationKind, ConversationRepository, StoredConversation } from '@countersign/core';
import type { Prisma, PrismaClient, TeamsConversation } from './generated/prisma/client.ts';

// Conversations a chat channel may post to proactively, in the TeamsConversation table (Teams
// is the one channel that needs them today). Plain reads and writes: which id is canonical and
// what a reference holds is the channel's business (modules/teams/src/conversations.ts).

export class PrismaConversationRepository implements ConversationRepository {
  constructor(private readonly prisma: PrismaClient) {}

  async save(c: StoredConversation): Promise<void> {
    const data = {
      kind: c.kind,
      tenantId: c.tenantId,
      teamId: c.teamId,
      teamName: c.teamName,
      channelName: c.channelName,
      aadObjectId: c.userId,
      // A JSON column takes plain data only: drop undefined members and class instances.
      reference: JSON.parse(JSON.stringify(c.reference ?? {})) as Prisma.InputJsonValue,
    };
    await this.prisma.teamsConversation.upsert({ where: { id: c.id }, create: { id: c.id, ...data }, update: data });
  }

  async get(id: string): Promise<StoredConversation | null> {
    const row = await this.prisma.teamsConversation.findUnique({ where: { id } });
    return row ? toStored(row) : null;
  }

  async list(tenantId: string): Promise<StoredConversation[]> {
    const rows = await this.prisma.teamsConversation.findMany({ where: { tenantId }, orderBy: { id: 'asc' } });
    return rows.map(toStored);
  }

  async personal(tenantId: string, userId: string): Promise<StoredConversation | null> {
    const row = await this.prisma.teamsConversation.findFirst({
      where: { tenantId, kind: 'personal', aadObjectId: userId },
      orderBy: { updatedAt: 'desc' },
    });
    return row ? toStored(row) : null;
  }

  async renameTeam(teamId: string, teamName: string): Promise<void> {
    await this.prisma.teamsConversation.updateMany({ where: { teamId }, data: { teamName } });
  }

  async remove(id: string): Promise<void> {
    await this.prisma.teamsConversation.deleteMany({ where: { id } });
  }

  async removeTeam(teamId: string): Promise<void> {
    await this.prisma.teamsConversation.deleteMany({ where: { teamId } });
  }
}

function toStored(row: TeamsConversation): StoredConversation {
  return {
    id: row.id,
    kind: row.kind as ConversationKind,
    tenantId: row.tenantId,
    teamId: row.teamId,
    teamName: row.teamName,
    channelName: row.channelName,
    userId: row.aadObjectId,
    reference: row.reference,
  };
}
