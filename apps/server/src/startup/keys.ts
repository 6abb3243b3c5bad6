import fs from 'node:fs';
import { ed25519Backend, loadKeyring, type Keyring } from '@countersign/evidence';
import type { Settings } from '../settings.ts';
import { StartupError } from './startup-error.ts';

/** The signing keys: an inline PEM, a PEM file, or the key directory (created when allowed). */
export function loadSigningKeys(settings: Settings, resolve: (p: string) => string, create: boolean): Keyring {
  // What signs is settled before anything listens: COUNTERSIGN_ED25519=libsodium on a machine
  // where its addon cannot load stops here, not at the first decision (review s17 a, F2).
  try {
    ed25519Backend();
  } catch (err) {
    throw new StartupError((err as Error).message);
  }
  const pemFile = settings.COUNTERSIGN_SIGNING_KEY_FILE ? resolve(settings.COUNTERSIGN_SIGNING_KEY_FILE) : undefined;
  if (pemFile) {
    try {
      fs.accessSync(pemFile, fs.constants.R_OK);
    } catch (err) {
      throw new StartupError(`cannot read COUNTERSIGN_SIGNING_KEY_FILE (${(err as NodeJS.ErrnoException).code ?? 'error'}): mount the signing key's PEM there, readable by the service`);
    }
  }
  try {
    return loadKeyring({ pem: settings.COUNTERSIGN_SIGNING_KEY, pemFile, dir: resolve(settings.COUNTERSIGN_KEYS_DIR), create });
  } catch (err) {
    // Nothing given and nothing to create one in: say what to set, not where it looked.
    if (!settings.COUNTERSIGN_SIGNING_KEY && !pemFile && !create && /no signing key/.test((err as Error).message)) {
      throw new StartupError(`${(err as Error).message}: set COUNTERSIGN_SIGNING_KEY_FILE (a mounted secret holding the PEM), or COUNTERSIGN_KEYS_DIR for a folder the service may create its key in`);
    }
    throw err;
  }
}
