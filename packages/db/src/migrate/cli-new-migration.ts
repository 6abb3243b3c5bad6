// `npm run db:migration -- NAME`: writes prisma/migrations/<timestamp>_NAME/migration.sql with
// the SQL that takes the existing migrations to prisma/schema.prisma.
//
// The engine replays the migrations on a throwaway "shadow" database to know where they lead.
// It uses SHADOW_DATABASE_URL's server when set (only CREATE/DROP DATABASE happen there);
// otherwise a temporary embedded Postgres under .countersign/tmp, removed afterwards.
import { rm } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { randomBytes } from 'node:crypto';
import { removeAbandonedScratch, startPostgres } from '@countersign/devstack';
import { createMigration } from './create-migration.ts';
import { REPO_ROOT } from './paths.ts';

async function main(): Promise<void> {
  const name = process.argv[2];
  if (name === undefined || process.argv.length > 3) {
    console.error('usage: npm run db:migration -- NAME   (NAME: a-z, 0-9, _)');
    process.exitCode = 2;
    return;
  }
  const shadowServerUrl = process.env.SHADOW_DATABASE_URL;
  if (shadowServerUrl) {
    report(await createMigration(name, { shadowServerUrl }));
    return;
  }
  const scratch = join(REPO_ROOT, '.countersign', 'tmp');
  await removeAbandonedScratch(scratch);
  const dataDir = join(scratch, `shadow-${process.pid}-${randomBytes(4).toString('hex')}`);
  const postgres = await startPostgres({ dataDir, ephemeral: true });
  try {
    report(await createMigration(name, { shadowServerUrl: postgres.url }));
  } finally {
    await postgres.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

function report(created: { name: string | undefined; file: string | undefined }): void {
  if (created.file === undefined) {
    console.log('schema.prisma matches the migrations: no migration written');
    return;
  }
  console.log(`wrote ${relative(REPO_ROOT, created.file)}`);
}

main().catch((error: unknown) => {
  console.error(`db:migration failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
});
