// Local infrastructure for development and tests: embedded Postgres, a local Redis, and the
// small database chores around them. Nothing here is used in production.
export { startPostgres } from './postgres.ts';
export type { RunningPostgres, StartPostgresOptions } from './postgres.ts';
export { startRedis } from './redis.ts';
export type { RunningRedis, StartRedisOptions } from './redis.ts';
export { ensureRedisServer, findRedisServer } from './redis-install.ts';
export { createDatabase, databaseUrl, dropDatabase, ensureDatabase } from './databases.ts';
export type { CreateDatabaseOptions } from './databases.ts';
export { freePort } from './free-port.ts';
export { LOCAL_DATABASE_NAME, startLocalStack } from './local-stack.ts';
export type { LocalStack, LocalStackOptions } from './local-stack.ts';
export { removeAbandonedScratch } from './scratch-folders.ts';
export { LOCAL_SERVICE_LOGIN, servicePassword, urlAs } from './service-login.ts';
