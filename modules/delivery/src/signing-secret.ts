import { createHmac, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { SettingsError } from '@countersign/config/env';

// Webhook signing secrets, one per API key, derived rather than stored: HMAC-SHA256 of a
// master secret with the key id. Nothing new sits in the database in plaintext, a revoked and
// re-created key gets a new secret, and any process holding the master can sign or tell an
// agent its secret.

export const MASTER_FILE = 'webhook-master.key';
const PREFIX = 'whsec_';

/**
 * The master secret: COUNTERSIGN_WEBHOOK_SECRET when set, else the file in the keys folder,
 * created (0600) on first use. Processes that split roles must share one of the two.
 */
export function loadWebhookMaster(opts: { secret?: string | undefined; keysDir: string; create?: boolean }): Buffer {
  if (opts.secret) return Buffer.from(opts.secret, 'utf8');
  const file = path.join(opts.keysDir, MASTER_FILE);
  if (opts.create === false) {
    // Tools (the CLI) only read: a master created in the wrong folder would sign nothing.
    if (!fs.existsSync(file)) throw new Error(`no webhook master secret at ${file}: set COUNTERSIGN_WEBHOOK_SECRET, or start the service once with this COUNTERSIGN_KEYS_DIR`);
  } else {
    fs.mkdirSync(opts.keysDir, { recursive: true, mode: 0o700 });
    try {
      // `wx`: two processes starting at once cannot both create it; the loser reads the winner's.
      fs.writeFileSync(file, randomBytes(32).toString('base64url') + '\n', { flag: 'wx', mode: 0o600 });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
  const text = fs.readFileSync(file, 'utf8').trim();
  if (text.length < 32) throw new Error(`${file} is too short to be a webhook master secret`);
  return Buffer.from(text, 'utf8');
}

/** The signing secret for webhooks about actions submitted with API key `keyId`. */
export function webhookSecretFor(master: Buffer, keyId: string): string {
  return PREFIX + createHmac('sha256', master).update(`countersign/webhook/v1/${keyId}`, 'utf8').digest('base64url');
}

/**
 * COUNTERSIGN_WEBHOOK_SECRET_FILE's content. In a read-only container with split roles the
 * generated master (a file under the keys folder) can be neither written nor shared, so
 * deployments mount one secret for every process.
 */
export function webhookSecretFromFile(file: string | undefined, rootDir: string): string | undefined {
  if (file === undefined) return undefined;
  let secret: string;
  try {
    secret = fs.readFileSync(path.resolve(rootDir, file), 'utf8').trim();
  } catch (err) {
    // Named like any bad setting (the path is the operator's; the file's content never shown).
    throw new SettingsError(`invalid configuration:\n✖ cannot read the file (${(err as NodeJS.ErrnoException).code ?? 'error'})\n  → at COUNTERSIGN_WEBHOOK_SECRET_FILE`);
  }
  if (secret.length < 32) throw new SettingsError('invalid configuration:\n✖ the secret must be at least 32 characters\n  → at COUNTERSIGN_WEBHOOK_SECRET_FILE');
  return secret;
}
