// Migrations without the Prisma CLI's native engine: Prisma's schema engine in WebAssembly,
// driven through the pg driver adapter. Import as '@countersign/db/migrate'.
export { applyMigrations } from './apply-migrations.ts';
export type { ApplyMigrationsResult } from './apply-migrations.ts';
export { createMigration } from './create-migration.ts';
export type { CreatedMigration, CreateMigrationOptions } from './create-migration.ts';
export { diffDatabaseAgainstSchema } from './diff-database.ts';
export { DEFAULT_MIGRATIONS_DIR, DEFAULT_SCHEMA_PATH } from './paths.ts';
export { ensureServiceLogin, SERVICE_GROUP_ROLE } from './service-login.ts';
export type { ServiceLogin } from './service-login.ts';
export { pendingMigrations } from './pending-migrations.ts';
