// `npm test [-- vitest args…]`: install what is missing, generate the Prisma client, make sure
// redis-server exists (the test run starts its own on a free port), then `vitest run`.
// The vitest global setup (test/setup/global-setup.ts) starts one embedded Postgres and one
// Redis for the whole run and stops them at the end.
import { join } from 'node:path';
import { ensureRedisServer, fail, prepare, repoRoot, runNode } from './lib.mjs';

prepare();
await ensureRedisServer().catch(fail);
// `npm run fuzz` (= test.mjs --fuzz): the property-based fuzz tests alone, long (100,000 cases
// unless FUZZ_RUNS says otherwise); `npm test` runs them bounded (5,000) with everything else.
const args = process.argv.slice(2);
const fuzz = args.includes('--fuzz');
const vitestArgs = fuzz ? ['run', 'test/fuzz-api.test.ts', ...args.filter((a) => a !== '--fuzz')] : ['run', ...args];
const env = fuzz ? { FUZZ_RUNS: process.env.FUZZ_RUNS ?? '100000' } : {};
runNode(join(repoRoot, 'node_modules', 'vitest', 'vitest.mjs'), vitestArgs, { env });
