import type { Logger } from 'pino';
import { observeStore, type Clock, type GateObserver } from '@countersign/core';
import { ApiKeyCache, Database } from '@countersign/db';
import type { Keyring } from '@countersign/evidence';
import type { Settings } from '../settings.ts';
import type { Stops } from './stops.ts';

/** The system of record: one pool, closed last. */
export function openDatabase(settings: Settings, stops: Stops): Database {
  const db = Database.open(settings.DATABASE_URL, { max: settings.COUNTERSIGN_DB_POOL });
  stops.add(() => db.close());
  return db;
}

/** The engine's store on the database, observed by the metrics, with the signing key's rotation sealed. */
export async function openEngineStore(deps: { db: Database; keyring: Keyring; clock: Clock; logger: Logger; observer: GateObserver }) {
  const { db, keyring, clock, logger } = deps;
  // API keys are cached only while the decision bus hears revocations (see ApiKeyCache).
  const keyCache = new ApiKeyCache();
  const store = observeStore(db.gateStore(keyring, () => clock.now(), { keyCache }), deps.observer);
  // Before anything is signed: learn the sealed key rotations (a retired key refuses to
  // start) and, if the active key changed since the last artifact, seal the rotation first.
  const rotation = await db.sealSigningKey(keyring, () => clock.now());
  if (rotation) logger.warn({ seq: rotation.seq, keyId: keyring.active.keyId }, 'signing key rotated: rotation sealed, the previous key is retired');
  return { keyCache, store };
}
