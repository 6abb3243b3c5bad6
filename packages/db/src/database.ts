import type { ActionSearchStore, AuditExport, ConversationRepository, DeliveryStore, SessionStore } from '@countersign/core';
import { PrismaActionSearch } from './action-search.ts';
import { PrismaSessionStore } from './session-store.ts';
import type { SealedArtifact } from '@countersign/contracts';
import type { Keyring } from '@countersign/evidence';
import { auditExportLines } from './audit-export.ts';
import { PgCardStore } from './card-store.ts';
import { createPrismaClient, sqlOf, type PrismaClientOptions } from './client.ts';
import { PrismaConversationRepository } from './conversation-repository.ts';
import { PgDeliveryStore } from './delivery-store.ts';
import { PgGateStore, type PgGateStoreOptions } from './gate-store.ts';
import type { PrismaClient } from './generated/prisma/client.ts';
import { PrismaMetricsQueries } from './metrics-queries.ts';
import { PgOutboxStore } from './outbox-store.ts';
import { sealSigningKey } from './signing-key-seal.ts';
import type { Sql } from './sql.ts';

/**
 * What modules reach the tables through. Each repository is typed by the engine's port where
 * the engine has one (packages/core), so a module depends on the port, not on Postgres.
 */
export interface Repositories {
  /** Approval cards and requester notices: the worker's send-once claims. */
  readonly cards: PgCardStore;
  /** The transactional outbox, drained by the worker's dispatcher and sweeper. */
  readonly outbox: PgOutboxStore;
  /** Conversations a chat channel may post to proactively. */
  readonly conversations: ConversationRepository;
  /** People's console sign-ins and sessions. */
  readonly sessions: SessionStore;
  /** Search, timelines and evidence of actions (the read side). */
  readonly actions: ActionSearchStore;
  /** Webhook and held-execution rows; a claim protects a send in flight for `leaseMs`. */
  deliveries(leaseMs: number): DeliveryStore;
}

/**
 * The system of record, opened once per process. The Prisma client stays in here: callers get
 * repositories, the engine's store, the audit export, a readiness ping and `close()`.
 */
export class Database implements Repositories {
  readonly cards: PgCardStore;
  readonly outbox: PgOutboxStore;
  readonly conversations: ConversationRepository;
  readonly sessions: SessionStore;
  readonly actions: ActionSearchStore;
  /** The backlog /metrics reports (pending actions, outbox lag), read at scrape time. */
  readonly metrics: PrismaMetricsQueries;

  /** Plain SQL on Prisma's pool, for the paths every decision takes (sql.ts). */
  private readonly sql: Sql;

  private constructor(private readonly prisma: PrismaClient) {
    this.sql = sqlOf(prisma);
    this.cards = new PgCardStore(this.sql);
    this.outbox = new PgOutboxStore(this.sql);
    this.conversations = new PrismaConversationRepository(prisma);
    this.sessions = new PrismaSessionStore(prisma);
    this.actions = new PrismaActionSearch(prisma);
    this.metrics = new PrismaMetricsQueries(prisma);
  }

  /** Connects lazily (on first query); the caller owns it and must `close()` it. */
  static open(databaseUrl: string, options: PrismaClientOptions = {}): Database {
    return new Database(createPrismaClient(databaseUrl, options));
  }

  deliveries(leaseMs: number): DeliveryStore {
    return new PgDeliveryStore(this.sql, leaseMs);
  }

  /** The engine's GateStore on this database; artifacts are sealed with the keyring's active key. */
  gateStore(keyring: Keyring, now: () => Date = () => new Date(), options: PgGateStoreOptions = {}): PgGateStore {
    return new PgGateStore(this.sql, keyring, now, options);
  }

  /**
   * At start, before signing anything: learn the sealed key rotations and seal one if the
   * active key changed since the chain's last artifact (see signing-key-seal.ts).
   */
  sealSigningKey(keyring: Keyring, now: () => Date = () => new Date()): Promise<SealedArtifact | null> {
    return sealSigningKey(this.sql, keyring, now);
  }

  /** Exports signed with the keyring's active key (the trailer). */
  auditExport(keyring: Keyring): AuditExport {
    return { lines: (opts) => auditExportLines(this.prisma, keyring, opts) };
  }

  /** Readiness: one round trip to Postgres; throws when it cannot be reached. */
  async ping(): Promise<void> {
    await this.sql.query`SELECT 1`;
  }

  /** Ends the connection pool. */
  close(): Promise<void> {
    return this.prisma.$disconnect();
  }
}
