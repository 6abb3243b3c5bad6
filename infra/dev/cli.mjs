// `npm run countersign -- …`: the countersign command line (apps/cli/src/main.ts).
import { prepare, runTsx } from './lib.mjs';

prepare();
runTsx('apps/cli/src/main.ts', process.argv.slice(2));
