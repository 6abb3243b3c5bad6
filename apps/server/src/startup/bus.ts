import type { Logger } from 'pino';
import { type ApiKeyCache, PgDecisionBus } from '@countersign/db';
import type { Settings } from '../settings.ts';
import type { Stops } from './stops.ts';

/** The decision bus (Postgres LISTEN/NOTIFY): wakes long-polls and drops revoked keys from the cache. */
export function decisionBus(settings: Settings, logger: Logger, keyCache: ApiKeyCache): PgDecisionBus {
  const bus = new PgDecisionBus(settings.DATABASE_URL, logger);
  bus.listen(keyCache);
  return bus;
}

/**
 * Started (so stopped) after the HTTP app: closing the bus first releases every long-poll, so
 * app.close() need not wait them out.
 */
export async function startBus(bus: PgDecisionBus, stops: Stops): Promise<void> {
  await bus.start();
  stops.add(() => bus.close());
}
