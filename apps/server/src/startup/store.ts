import type { Logger } from 'pino';
import { observeStore, type Clock, type GateObserver } from '@countersign/core';
import { ApiKeyCache, Database, databaseUnavailableReason, sqlStateOf } from '@countersign/db';
import type { Keyring } from '@countersign/evidence';
import type { Settings } from '../settings.ts';
import { firstLine, StartupError } from './startup-error.ts';
import type { Stops } from './stops.ts';

/** SQLSTATEs that say the URL is wrong: password rejected, no such role or database. */
const CANNOT_USE = ['28P01', '28000', '3D000'];

/** The system of record: one pool, closed last. */
export function openDatabase(settings: Settings, stops: Stops): Database {
  const db = Database.open(settings.DATABASE_URL, { max: settings.COUNTERSIGN_DB_POOL, preparedStatements: settings.COUNTERSIGN_DB_PREPARED_STATEMENTS });
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
  // The first statement the service sends: a database it cannot use stops it here, saying so.
  const rotation = await db.sealSigningKey(keyring, () => clock.now()).catch((err: Error) => {
    const reason = databaseUnavailableReason(err) ?? CANNOT_USE.find((state) => state === sqlStateOf(err));
    if (reason) throw new StartupError(`cannot use the database at DATABASE_URL (${reason}): ${firstLine(err.message)}`);
    throw err;
  });
  if (rotation) logger.warn({ seq: rotation.seq, keyId: keyring.active.keyId }, 'signing key rotated: rotation sealed, the previous key is retired');
  return { keyCache, store };
}
