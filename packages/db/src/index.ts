// @countersign/db: the only package that touches tables. Open a Database once per process and
// hand out its repositories; the Prisma client never leaves this package (raw access for tests
// only: `@countersign/db/testing`; migrations: `@countersign/db/migrate`).
export { Database, type Repositories } from './database.ts';
export type { PrismaClientOptions } from './client.ts';
export { PgGateStore, type PgGateStoreOptions } from './gate-store.ts';
export { PgDecisionBus, type BusChannelListener } from './decision-bus.ts';
export { ApiKeyCache, type ApiKeyCacheOptions } from './api-key-cache.ts';
export { databaseUnavailableReason, sqlStateOf, uniqueViolationOf } from './pg-errors.ts';
export type { ExportRange } from './artifact-reader.ts';
export { PgOutboxStore, OutboxListener, type OutboxEventRecord, type OutboxHandler } from './outbox-store.ts';
export { PgCardStore, noticeTarget, type CardKey, type CardState, type ChannelCardRecord, type ClaimResult } from './card-store.ts';
export { PrismaConversationRepository } from './conversation-repository.ts';
export { PgDeliveryStore } from './delivery-store.ts';
export { PrismaMetricsQueries, type BacklogSnapshot } from './metrics-queries.ts';
