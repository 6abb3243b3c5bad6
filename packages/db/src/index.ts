export { createPrismaClient } from './client.ts';
export { PrismaGateStore } from './gate-store.ts';
export { PgDecisionBus } from './decision-bus.ts';
export { readArtifacts, type ExportRange } from './artifact-reader.ts';
export type { PrismaClient } from './generated/prisma/client.ts';
export { auditExportLines, type ExportFormat } from './audit-export.ts';
