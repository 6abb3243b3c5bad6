import { z } from 'zod';
import { commaList, configFilePath, parseEnv } from '@countersign/config/env';

// The delivery module's own settings, parsed once from the environment at register(). A bad
// value stops the service naming the variable (never its value: the webhook secret is one).

export const DeliverySettingsSchema = z.object({
  /** Master secret the per-key webhook secrets derive from; else generated once under the keys folder. */
  COUNTERSIGN_WEBHOOK_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
  /** The same, read from a file (a Compose or Kubernetes secret mount); the variable wins. */
  COUNTERSIGN_WEBHOOK_SECRET_FILE: z.string().min(1).optional(),
  COUNTERSIGN_KEYS_DIR: z.string().default('.countersign/keys'),
  /** Where callbackUrl may point (and executors too): URL prefixes or host names. */
  COUNTERSIGN_CALLBACK_ALLOWLIST: commaList(),
  /** Further destinations allowed for held execution only. */
  COUNTERSIGN_EXECUTOR_ALLOWLIST: commaList(),
  /** Per outbound request. */
  COUNTERSIGN_DELIVERY_TIMEOUT_MS: z.coerce.number().int().min(100).max(120_000).default(10_000),
  /** The policy file, to check executor destinations at boot. */
  COUNTERSIGN_POLICY: configFilePath('config/policy.yaml'),
});

export type DeliverySettings = z.output<typeof DeliverySettingsSchema>;

export function parseDeliverySettings(env: NodeJS.ProcessEnv): DeliverySettings {
  return parseEnv(DeliverySettingsSchema, env, 'delivery');
}
