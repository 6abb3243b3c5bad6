import { SettingsError } from '../settings.ts';

/**
 * The production entry never makes a webhook master secret of its own unless it was given a
 * keys folder to make keys in (COUNTERSIGN_KEYS_DIR, as for the signing key): each replica, and
 * each restart of a container without a volume, would sign webhooks with a different secret,
 * and receivers would reject all but one of them.
 */
export function requireWebhookMaster(env: NodeJS.ProcessEnv): void {
  if (env.COUNTERSIGN_WEBHOOK_SECRET || env.COUNTERSIGN_WEBHOOK_SECRET_FILE || env.COUNTERSIGN_KEYS_DIR !== undefined) return;
  throw new SettingsError(
    'invalid configuration:\n✖ required: one webhook master secret shared by every process (a generated one would differ per process and restart)\n  → at COUNTERSIGN_WEBHOOK_SECRET_FILE (a mounted secret) or COUNTERSIGN_WEBHOOK_SECRET',
  );
}
