// `npm test [-- vitest args…]`: install what is missing, generate the Prisma client, make sure
// redis-server exists (the test run starts its own on a free port), then `vitest run`.
// The vitest global setup (test/setup/global-setup.ts) starts one embedded Postgres and one
// Redis for the whole run and stops them at the end.
import { join } from 'node:path';
import { ensureGenerated, ensureInstalled, ensureRedisServer, fail, repoRoot, runNode } from './lib.mjs';

try {
  ensureInstalled();
  ensureGenerated();
  await ensureRedisServer();
} catch (error) {
  fail(error);
}
runNode(join(repoRoot, 'node_modules', 'vitest', 'vitest.mjs'), ['run', ...process.argv.slice(2)]);
