import { UniqueViolation } from '@countersign/core';

/** Prisma reports unique violations as P2002 (also through driver adapters); Postgres as 23505. */
export function asUniqueViolation(err: unknown): UniqueViolation | undefined {
  let e: unknown = err;
  for (let depth = 0; e && depth < 5; depth++) {
    const o = e as { code?: string; meta?: { target?: unknown; constraint?: unknown }; cause?: unknown };
    if (o.code === 'P2002' || o.code === '23505') {
      return new UniqueViolation(String(o.meta?.target ?? o.meta?.constraint ?? 'unknown'));
    }
    e = o.cause;
  }
  return undefined;
}
