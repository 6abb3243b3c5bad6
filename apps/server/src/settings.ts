import { isIP } from 'node:net';
import { z } from 'zod';
import { commaList, parseEnv, settingsIssue, splitList } from '@countersign/config/env';

export { SettingsError } from '@countersign/config/env';

// Configuration is parsed once, at boot, from the environment. A bad value stops the service
// with the variable's name and the reason (never its value: some are secrets).
const duration = z.coerce.number().int().positive();

/** COUNTERSIGN_TRUST_PROXY as Fastify's trustProxy: a boolean, a hop count, or addresses/CIDRs. */
function trustProxy(value: string, ctx: z.core.$RefinementCtx<string>): boolean | number | string[] {
  const text = value.trim();
  if (text === '' || text === 'false') return false;
  if (text === 'true') return true;
  if (/^\d+$/.test(text)) return Number(text);
  const proxies = splitList(text);
  proxies.forEach((proxy, i) => {
    const [address, bits, extra] = proxy.split('/');
    if (isIP(address!) === 0 || extra !== undefined || (bits !== undefined && !/^\d{1,3}$/.test(bits))) {
      ctx.addIssue({ code: 'custom', message: `entry ${i + 1} is not an IP address or CIDR; expected false, true, a hop count or the proxies' addresses` });
    }
  });
  return proxies;
}

/** An optional setting that an empty value (`VAR=` in a Compose or env file) leaves unset. */
function unsetWhenEmpty<T extends z.ZodType>(schema: T) {
  return z.preprocess((value) => (value === '' ? undefined : value), schema);
}

export const SettingsSchema = z.object({
  // A password with an unescaped special character makes a string that is no URL at all; the
  // drivers' own errors then say nothing of which variable ("External error id#0").
  DATABASE_URL: z.string().regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL').refine(URL.canParse, 'must be a URL (percent-encode special characters in the password)'),
  REDIS_URL: z.string().regex(/^rediss?:\/\//, 'must be a redis:// URL').refine(URL.canParse, 'must be a URL (percent-encode special characters in the password)'),
  HOST: z.string().default('127.0.0.1'),
  /** all: HTTP and queue workers in one process (default); api or worker to scale them apart. */
  COUNTERSIGN_ROLE: z.enum(['all', 'api', 'worker']).default('all'),
  PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  PUBLIC_URL: z.url().optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** The policy and directory files: config/… by default, named explicitly with NODE_ENV=production (see below). */
  COUNTERSIGN_POLICY: unsetWhenEmpty(z.string().optional()),
  COUNTERSIGN_DIRECTORY: unsetWhenEmpty(z.string().optional()),
  NODE_ENV: z.string().optional(),
  /** PEM private key(s), first is active; or a file; else a generated key under COUNTERSIGN_KEYS_DIR. */
  COUNTERSIGN_SIGNING_KEY: z.string().optional(),
  COUNTERSIGN_SIGNING_KEY_FILE: z.string().optional(),
  COUNTERSIGN_KEYS_DIR: z.string().default('.countersign/keys'),
  /**
   * Who computes Ed25519 signatures. @countersign/evidence reads it itself (startup/keys.ts asks
   * before anything listens); checked here too, so a bad value stops the service naming the
   * variable. Unset: libsodium where its addon loads and Node is not in FIPS mode.
   */
  COUNTERSIGN_ED25519: unsetWhenEmpty(z.enum(['libsodium', 'openssl'], { message: 'must be libsodium or openssl' }).optional()),
  COUNTERSIGN_ISSUER: z.string().default('countersign'),
  COUNTERSIGN_RELEASE_AUDIENCE: z.string().default('countersign-release'),
  COUNTERSIGN_RELEASE_TTL_SECONDS: duration.max(3600).default(300),
  COUNTERSIGN_BODY_LIMIT_BYTES: z.coerce.number().int().min(1024).max(1024 * 1024).default(64 * 1024),
  COUNTERSIGN_DB_POOL: z.coerce.number().int().min(1).max(200).default(20),
  /**
   * Our statements as named prepared statements (parsed once per connection). false behind a
   * transaction-pooling proxy that does not keep prepared statements per client (PgBouncer
   * before 1.21, or without max_prepared_statements).
   */
  COUNTERSIGN_DB_PREPARED_STATEMENTS: z
    .enum(['true', 'false', '1', '0'], { message: 'must be true or false' })
    .default('true')
    .transform((v) => v === 'true' || v === '1'),
  /** Allowed webhook / execution destinations: URL prefixes or host names (comma-separated). */
  COUNTERSIGN_CALLBACK_ALLOWLIST: commaList(),
  /** Extra destinations for held execution only (policy `executor` URLs), same format. */
  COUNTERSIGN_EXECUTOR_ALLOWLIST: commaList(),
  /** Roles whose people may pull the approval history (comma-separated). */
  COUNTERSIGN_AUDIT_ROLES: commaList('auditor'),
  /** Roles whose people read intents without the rules' redaction (comma-separated; none by default). */
  COUNTERSIGN_AUDIT_UNREDACTED_ROLES: commaList(),
  /** Longest long-poll a client may ask for, in seconds. */
  COUNTERSIGN_MAX_WAIT_SECONDS: z.coerce.number().int().min(0).max(300).default(60),
  /** Requests per window per API key (named by its public prefix); 0 turns the limit off. */
  COUNTERSIGN_RATE_LIMIT_PER_KEY: z.coerce.number().int().min(0).default(600),
  /** Requests per window per client address, for requests without an API key; 0 turns it off. */
  COUNTERSIGN_RATE_LIMIT_PER_IP: z.coerce.number().int().min(0).default(300),
  COUNTERSIGN_RATE_LIMIT_WINDOW_SECONDS: duration.max(3600).default(60),
  /**
   * Whose X-Forwarded-For to believe (Fastify trustProxy): false (default: the peer address is
   * the client), true (any peer: only when nothing reaches the service but your proxy), a hop
   * count, or the proxies' addresses/CIDRs, comma-separated.
   */
  COUNTERSIGN_TRUST_PROXY: z.string().default('false').transform(trustProxy),
  /**
   * /metrics requires `Authorization: Bearer <this>` (at least 32 characters). Unset: anyone
   * who reaches the port reads it. Empty counts as unset.
   */
  COUNTERSIGN_METRICS_TOKEN: unsetWhenEmpty(z.string().min(32, 'must be at least 32 characters (e.g. openssl rand -hex 32)').optional()),
  /** Serve /metrics on this port (on HOST) instead of the API's port. Unset: on the API's port. */
  COUNTERSIGN_METRICS_PORT: unsetWhenEmpty(z.coerce.number().int().min(0).max(65535).optional()),
});

// The repository's config/ is the demo organisation: its policy approves some actions by
// itself and its directory names people who do not exist. In production the rules in force
// must be the organisation's own, so NODE_ENV=production (as the image sets) has no default
// for either file: a deployment that forgot to mount them stops at start, naming the
// variable, rather than deciding under rules nobody there wrote.
const ConfigFilesSchema = SettingsSchema.transform((s, ctx) => {
  const production = s.NODE_ENV === 'production';
  const missing = (variable: 'COUNTERSIGN_POLICY' | 'COUNTERSIGN_DIRECTORY', what: string): string => {
    if (production) settingsIssue(ctx, variable, `required with NODE_ENV=production: the path of your organisation's ${what} (mounted read-only; the demo one under config/ is not used in production)`);
    return '';
  };
  const { NODE_ENV: _nodeEnv, ...rest } = s;
  return {
    ...rest,
    /** NODE_ENV=production: the demo policy and directory (`demo: true`) are refused too. */
    production,
    COUNTERSIGN_POLICY: s.COUNTERSIGN_POLICY ?? (production ? missing('COUNTERSIGN_POLICY', 'policy file') : 'config/policy.yaml'),
    COUNTERSIGN_DIRECTORY: s.COUNTERSIGN_DIRECTORY ?? (production ? missing('COUNTERSIGN_DIRECTORY', 'directory file') : 'config/directory.yaml'),
  };
});

export type Settings = z.output<typeof ConfigFilesSchema>;

export function parseSettings(env: NodeJS.ProcessEnv): Settings {
  return parseEnv(ConfigFilesSchema, env);
}
