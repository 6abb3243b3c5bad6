import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaClient } from './generated/prisma/client.ts';

export interface PrismaClientOptions {
  /** Connection pool size (pg's default is 10). */
  max?: number;
}

/**
 * A Prisma client on `databaseUrl`. Prisma 7 compiles queries in WebAssembly and sends them
 * through the pg driver adapter: no native engine. The caller owns the client and must
 * `$disconnect()` it (which also ends its pool).
 */
export function createPrismaClient(databaseUrl: string, options: PrismaClientOptions = {}): PrismaClient {
  const adapter = new PrismaPg({
    connectionString: databaseUrl,
    ...(options.max === undefined ? {} : { max: options.max }),
  });
  return new PrismaClient({ adapter });
}

export type { PrismaClient };
