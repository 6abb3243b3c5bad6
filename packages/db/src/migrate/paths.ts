import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (this file lives in packages/db/src/migrate/). */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..');
export const DEFAULT_SCHEMA_PATH = join(REPO_ROOT, 'prisma', 'schema.prisma');
export const DEFAULT_MIGRATIONS_DIR = join(REPO_ROOT, 'prisma', 'migrations');
