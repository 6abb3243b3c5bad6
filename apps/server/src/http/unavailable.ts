import { databaseUnavailableReason } from '@countersign/db';
import { redisUnavailableReason } from '@countersign/queue';

// "A dependency we need is unreachable right now" (Postgres, Redis), whatever layer wrapped it:
// each dependency's own classifier knows its client's errors. Those become 503 + Retry-After:
// the caller may retry, and nothing was decided. Anything not recognised stays a 500: fail
// closed means never guessing "transient".

export function isUnavailableError(err: unknown): boolean {
  return unavailableReason(err) !== undefined;
}

/**
 * A short, secret-free label for why a dependency is unavailable (an error code, SQLSTATE or
 * adapter kind), for readiness output and logs; undefined when the error is not a
 * connectivity error.
 */
export function unavailableReason(err: unknown): string | undefined {
  return databaseUnavailableReason(err) ?? redisUnavailableReason(err);
}
