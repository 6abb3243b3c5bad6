// `npm start`: install what is missing, generate the Prisma client, then run the server in
// development mode (apps/server/src/dev.ts starts the local Postgres/Redis when DATABASE_URL /
// REDIS_URL are unset, applies migrations, and prints where everything is).
import { prepare, runTsx } from './lib.mjs';

prepare();
runTsx('apps/server/src/dev.ts', process.argv.slice(2));
