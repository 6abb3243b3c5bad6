// `npm run db:generate`: generate the Prisma client from prisma/schema.prisma, offline.
//
// Dependency-free on purpose: it runs right after `npm ci`, before anything TypeScript can.
// Prisma 7's "prisma-client" generator builds the client in-process (wasm), but the CLI still
// insists that a schema-engine binary exists and would download one. Pointing
// PRISMA_SCHEMA_ENGINE_BINARY at any existing file satisfies that check without a download.
// A stamp (sha256 of the schema and the Prisma version) skips the ~5 s generate when current.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const schemaPath = join(repoRoot, 'prisma', 'schema.prisma');
const generatedDir = join(repoRoot, 'packages', 'db', 'src', 'generated');
const clientEntry = join(generatedDir, 'prisma', 'client.ts');
// Beside (not inside) the output folder: prisma clears its output folder on every generate.
const stampPath = join(generatedDir, '.schema.sha256');

function currentStamp() {
  const prismaPkg = join(repoRoot, 'node_modules', 'prisma', 'package.json');
  const prismaVersion = JSON.parse(readFileSync(prismaPkg, 'utf8')).version;
  return createHash('sha256')
    .update(readFileSync(schemaPath))
    .update(`\nprisma@${prismaVersion}\n`)
    .digest('hex');
}

/** True when the generated client matches the schema and Prisma version on disk. */
export function isGeneratedCurrent() {
  if (!existsSync(clientEntry) || !existsSync(stampPath)) return false;
  return readFileSync(stampPath, 'utf8').trim() === currentStamp();
}

/** Runs `prisma generate` unless the stamp says the client is current; throws on failure. */
export function generate({ force = false } = {}) {
  if (!force && isGeneratedCurrent()) return false;
  const prismaCli = join(repoRoot, 'node_modules', 'prisma', 'build', 'index.js');
  if (!existsSync(prismaCli)) {
    throw new Error(`prisma CLI not found at ${prismaCli}: run npm ci first`);
  }
  console.log('countersign: generating the Prisma client from prisma/schema.prisma');
  const result = spawnSync(
    process.execPath,
    [prismaCli, 'generate', '--schema', schemaPath],
    {
      cwd: repoRoot,
      stdio: ['ignore', 'inherit', 'inherit'],
      env: {
        ...process.env,
        // Any existing file will do: generate never executes it (see the header comment).
        PRISMA_SCHEMA_ENGINE_BINARY: process.env.PRISMA_SCHEMA_ENGINE_BINARY || process.execPath,
        CHECKPOINT_DISABLE: '1',
        PRISMA_HIDE_UPDATE_MESSAGE: '1',
        PRISMA_ENGINES_CHECKSUM_IGNORE_MISSING: '1',
      },
    },
  );
  if (result.error) throw result.error;
  if (result.status !== 0) {
    throw new Error(`prisma generate failed with exit code ${result.status ?? result.signal}`);
  }
  if (!existsSync(clientEntry)) {
    throw new Error(`prisma generate succeeded but ${clientEntry} is missing`);
  }
  mkdirSync(generatedDir, { recursive: true });
  writeFileSync(stampPath, `${currentStamp()}\n`);
  return true;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    const force = process.argv.includes('--force');
    if (!generate({ force })) console.log('countersign: Prisma client is up to date');
  } catch (error) {
    console.error(`countersign: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  }
}
