import { DomainError, type SealedArtifact } from '@countersign/contracts';
import type { ActionRecord, ApiKeyRecord, GateStore, GateTx, NewActionWrite, VoteRecord } from '@countersign/core';
import type { Keyring } from '@countersign/evidence';
import type { PrismaClient } from './generated/prisma/client.ts';
import type { ApiKeyCache } from './api-key-cache.ts';
import { PrismaGateTx } from './gate-tx.ts';
import { NewActionWriter } from './new-action-writer.ts';
import { toActionRecord, toApiKeyRecord, toSealedArtifact, toVoteRecord } from './rows.ts';
import { asUniqueViolation } from './unique-violation.ts';

/** The engine's system of record on Postgres through Prisma. */
export interface PrismaGateStoreOptions {
  /** Caches API keys for authentication; only safe when the cache is also on the decision bus. */
  keyCache?: ApiKeyCache;
}

export class PrismaGateStore implements GateStore {
  private readonly newActions: NewActionWriter;
  private readonly keyCache: ApiKeyCache | undefined;

  constructor(
    private readonly prisma: PrismaClient,
    private readonly keyring: Keyring,
    private readonly now: () => Date = () => new Date(),
    options: PrismaGateStoreOptions = {},
  ) {
    this.newActions = new NewActionWriter(prisma, keyring, now);
    this.keyCache = options.keyCache;
  }

  async transaction<T>(fn: (tx: GateTx) => Promise<T>): Promise<T> {
    let gateTx: PrismaGateTx | undefined;
    try {
      return await this.prisma.$transaction((tx) => fn((gateTx = new PrismaGateTx(tx, this.keyring, this.now))), {
        isolationLevel: 'ReadCommitted',
        maxWait: 5_000,
        timeout: 15_000,
      });
    } catch (err) {
      throw asUniqueViolation(err) ?? err;
    } finally {
      // A revocation is refused from this process the moment it commits; the NOTIFY sent with
      // it tells the others. (Also after a failed commit: forgetting is always safe.)
      if (gateTx?.revokedKeys) this.keyCache?.invalidate();
    }
  }

  async insertNewAction(write: NewActionWrite): Promise<SealedArtifact> {
    try {
      return await this.newActions.write(write);
    } catch (err) {
      // The key was revoked without this process hearing of it (yet): stop trusting the cache.
      if (err instanceof DomainError && err.code === 'unauthenticated') this.keyCache?.invalidate();
      throw err;
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
    const cached = this.keyCache?.get(prefix);
    if (cached) return cached;
    const ticket = this.keyCache?.ticket();
    const row = await this.prisma.apiKey.findUnique({ where: { prefix } });
    if (!row) return null;
    const key = toApiKeyRecord(row);
    if (ticket !== undefined) this.keyCache?.remember(ticket, key);
    return key;
  }

  async findApiKeyById(id: string): Promise<ApiKeyRecord | null> {
    const row = await this.prisma.apiKey.findUnique({ where: { id } });
    return row ? toApiKeyRecord(row) : null;
  }

  async touchApiKey(id: string, at: Date): Promise<void> {
    await this.prisma.apiKey.update({ where: { id }, data: { lastUsedAt: at } });
  }

  async bindApiKey(id: string, binding: string): Promise<string> {
    // COALESCE: the first binding written wins, so two processes binding at once agree.
    const rows = await this.prisma.$queryRaw<{ principalBinding: string }[]>`
      UPDATE "ApiKey" SET "principalBinding" = COALESCE("principalBinding", ${binding}) WHERE id = ${id}
      RETURNING "principalBinding"`;
    const bound = rows[0]?.principalBinding;
    if (bound === undefined) throw new Error(`no API key ${id} to bind`);
    return bound;
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
