import type { SealedArtifact } from '@countersign/contracts';
import type { ActionRecord, ApiKeyRecord, GateStore, GateTx, VoteRecord } from '@countersign/core';
import type { Keyring } from '@countersign/evidence';
import type { PrismaClient } from './generated/prisma/client.ts';
import { PrismaGateTx } from './gate-tx.ts';
import { toActionRecord, toApiKeyRecord, toSealedArtifact, toVoteRecord } from './rows.ts';
import { asUniqueViolation } from './unique-violation.ts';

/** The engine's system of record on Postgres through Prisma. */
export class PrismaGateStore implements GateStore {
  constructor(
    private readonly prisma: PrismaClient,
    private readonly keyring: Keyring,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async transaction<T>(fn: (tx: GateTx) => Promise<T>): Promise<T> {
    try {
      return await this.prisma.$transaction((tx) => fn(new PrismaGateTx(tx, this.keyring, this.now)), {
        isolationLevel: 'ReadCommitted',
        maxWait: 5_000,
        timeout: 15_000,
      });
    } catch (err) {
      throw asUniqueViolation(err) ?? err;
    }
  }

  async findAction(id: string): Promise<ActionRecord | null> {
    const row = await this.prisma.action.findUnique({ where: { id } });
    return row ? toActionRecord(row) : null;
  }

  async findByIdempotencyKey(apiKeyId: string, key: string): Promise<ActionRecord | null> {
    const row = await this.prisma.action.findUnique({ where: { apiKeyId_idempotencyKey: { apiKeyId, idempotencyKey: key } } });
    return row ? toActionRecord(row) : null;
  }

  async votesFor(actionId: string): Promise<VoteRecord[]> {
    const rows = await this.prisma.vote.findMany({ where: { actionId }, orderBy: { createdAt: 'asc' } });
    return rows.map(toVoteRecord);
  }

  async latestArtifactFor(actionId: string): Promise<SealedArtifact | null> {
    const row = await this.prisma.artifact.findFirst({ where: { actionId }, orderBy: { seq: 'desc' } });
    return row ? toSealedArtifact(row) : null;
  }

  async findApiKeyByPrefix(prefix: string): Promise<ApiKeyRecord | null> {
    const row = await this.prisma.apiKey.findUnique({ where: { prefix } });
    return row ? toApiKeyRecord(row) : null;
  }

  async findApiKeyById(id: string): Promise<ApiKeyRecord | null> {
    const row = await this.prisma.apiKey.findUnique({ where: { id } });
    return row ? toApiKeyRecord(row) : null;
  }

  async touchApiKey(id: string, at: Date): Promise<void> {
    await this.prisma.apiKey.update({ where: { id }, data: { lastUsedAt: at } });
  }

  async dueForExpiry(now: Date, limit: number): Promise<string[]> {
    const rows = await this.prisma.action.findMany({
      where: { status: 'pending', expiresAt: { lte: now } },
      select: { id: true },
      orderBy: { expiresAt: 'asc' },
      take: limit,
    });
    return rows.map((r) => r.id);
  }

  async listApiKeys(): Promise<ApiKeyRecord[]> {
    const rows = await this.prisma.apiKey.findMany({ orderBy: { createdAt: 'asc' } });
    return rows.map(toApiKeyRecord);
  }
}
