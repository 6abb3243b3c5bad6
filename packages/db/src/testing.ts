// For tests only (`@countersign/db/testing`): the raw Prisma client, so a test can look at what
// is really in the tables (counts, append-only triggers, rows written by another process).
// Source code reaches the tables through Database and its repositories; test/architecture.test.ts
// fails when anything outside tests imports this entry.
export { createPrismaClient, type PrismaClient, type PrismaClientOptions } from './client.ts';
