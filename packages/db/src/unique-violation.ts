import { UniqueViolation } from '@countersign/core';
import { uniqueViolationOf } from './pg-errors.ts';

/** The engine's UniqueViolation for a Prisma P2002 / Postgres 23505 error, else undefined. */
export function asUniqueViolation(err: unknown): UniqueViolation | undefined {
  const constraint = uniqueViolationOf(err);
  return constraint === undefined ? undefined : new UniqueViolation(constraint);
}
