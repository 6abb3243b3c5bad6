// `node infra/dev/run.mjs FILE.ts [args…]`: run any TypeScript entry point of the repo after
// making sure dependencies are installed and the Prisma client is generated.
import { ensureGenerated, ensureInstalled, fail, runTsx } from './lib.mjs';

const [file, ...args] = process.argv.slice(2);
if (file === undefined) fail(new Error('usage: node infra/dev/run.mjs FILE.ts [args…]'));
try {
  ensureInstalled();
  ensureGenerated();
} catch (error) {
  fail(error);
}
runTsx(file, args);
