// `npm run countersign -- …`: the countersign command line (apps/cli/src/main.ts).
import { ensureGenerated, ensureInstalled, fail, runTsx } from './lib.mjs';

try {
  ensureInstalled();
  ensureGenerated();
} catch (error) {
  fail(error);
}
runTsx('apps/cli/src/main.ts', process.argv.slice(2));
