import { loadKeyring, type Keyring } from '@countersign/evidence';
import type { Settings } from '../settings.ts';

/** The signing keys: an inline PEM, a PEM file, or the key directory (created when allowed). */
export function loadSigningKeys(settings: Settings, resolve: (p: string) => string, create: boolean): Keyring {
  return loadKeyring({
    pem: settings.COUNTERSIGN_SIGNING_KEY,
    pemFile: settings.COUNTERSIGN_SIGNING_KEY_FILE ? resolve(settings.COUNTERSIGN_SIGNING_KEY_FILE) : undefined,
    dir: resolve(settings.COUNTERSIGN_KEYS_DIR),
    create,
  });
}
