import fs from 'node:fs';
import path from 'node:path';
import { MASTER_FILE } from '@countersign/delivery';
import { SettingsError } from '../settings.ts';

/** Where the delivery module keeps a generated master when no keys folder is named (its default). */
const DEFAULT_MASTER = path.join('.countersign', 'keys', MASTER_FILE);

/**
 * The production entry never makes a webhook master secret of its own unless it was given a
 * keys folder to make keys in (COUNTERSIGN_KEYS_DIR, as for the signing key): each replica, and
 * each restart of a container without a volume, would sign webhooks with a different secret,
 * and receivers would reject all but one of them. A master an earlier start already made in the
 * default folder is kept: replacing it would change every agent's webhook secret unannounced.
 */
export function requireWebhookMaster(env: NodeJS.ProcessEnv, cwd: string): void {
  if (env.COUNTERSIGN_WEBHOOK_SECRET || env.COUNTERSIGN_WEBHOOK_SECRET_FILE || env.COUNTERSIGN_KEYS_DIR) return;
  if (fs.existsSync(path.resolve(cwd, DEFAULT_MASTER))) return;
  throw new SettingsError(
    'invalid configuration:\n✖ required: one webhook master secret shared by every process (a generated one would differ per process and restart)\n  → at COUNTERSIGN_WEBHOOK_SECRET_FILE (a mounted secret) or COUNTERSIGN_WEBHOOK_SECRET',
  );
}
