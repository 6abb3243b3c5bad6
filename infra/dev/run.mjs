// `node infra/dev/run.mjs FILE.ts [args…]`: run any TypeScript entry point of the repo after
// making sure dependencies are installed and the Prisma client is generated.
import { fail, prepare, runTsx } from './lib.mjs';

const [file, ...args] = process.argv.slice(2);
if (file === undefined) fail(new Error('usage: node infra/dev/run.mjs FILE.ts [args…]'));
prepare();
runTsx(file, args);
