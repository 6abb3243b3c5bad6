import type { LoginAttemptRecord, SessionRecord, SessionStore } from '@countersign/core';
import type { PrismaClient } from './generated/prisma/client.ts';

/** Console sign-ins and sessions on Postgres (ConsoleLogin, ConsoleSession). */
export class PrismaSessionStore implements SessionStore {
  constructor(private readonly prisma: PrismaClient) {}

  async saveLogin(login: LoginAttemptRecord): Promise<void> {
    await this.prisma.consoleLogin.create({ data: login });
  }

  async takeLogin(id: string): Promise<LoginAttemptRecord | null> {
    // DELETE … RETURNING: of two callbacks racing with the same cookie, one gets the row.
    const rows = await this.prisma.$queryRaw<LoginAttemptRecord[]>`DELETE FROM "ConsoleLogin" WHERE "id" = ${id} RETURNING *`;
    return rows[0] ?? null;
  }

  async createSession(session: SessionRecord): Promise<void> {
    await this.prisma.consoleSession.create({ data: session });
  }

  async findSession(id: string): Promise<SessionRecord | null> {
    return this.prisma.consoleSession.findUnique({ where: { id } });
  }

  async touchSession(id: string, at: Date): Promise<void> {
    await this.prisma.consoleSession.updateMany({ where: { id, endedAt: null }, data: { lastSeenAt: at } });
  }

  async endSession(id: string, at: Date): Promise<void> {
    await this.prisma.consoleSession.updateMany({ where: { id, endedAt: null }, data: { endedAt: at } });
  }

  async purge(before: Date): Promise<void> {
    await this.prisma.consoleLogin.deleteMany({ where: { createdAt: { lt: before } } });
    await this.prisma.consoleSession.deleteMany({ where: { OR: [{ endedAt: { lt: before } }, { expiresAt: { lt: before } }, { lastSeenAt: { lt: before } }] } });
  }
}
