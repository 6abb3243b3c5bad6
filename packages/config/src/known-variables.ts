import { misspeltVariablesError, strayVariables } from './env.ts';

// Every COUNTERSIGN_ variable something in this repository reads: the service's and its modules'
// settings, the CLI's and the clients' (COUNTERSIGN_URL, COUNTERSIGN_API_KEY, … may share the
// service's environment). packages/config/test/known-variables.test.ts keeps this list equal to
// the names the sources use, so a new setting cannot be taken for a misspelling.

export const KNOWN_VARIABLES: readonly string[] = [
  'COUNTERSIGN_API_KEY',
  'COUNTERSIGN_AUDIT_ROLES',
  'COUNTERSIGN_AUDIT_UNREDACTED_ROLES',
  'COUNTERSIGN_BODY_LIMIT_BYTES',
  'COUNTERSIGN_CALLBACK_ALLOWLIST',
  'COUNTERSIGN_CHANNEL_PACING_MS',
  'COUNTERSIGN_CONSOLE_IDLE_MINUTES',
  'COUNTERSIGN_CONSOLE_SESSION_HOURS',
  'COUNTERSIGN_DB_POOL',
  'COUNTERSIGN_DELIVERY_TIMEOUT_MS',
  'COUNTERSIGN_DIRECTORY',
  'COUNTERSIGN_EXECUTOR_ALLOWLIST',
  'COUNTERSIGN_EXECUTOR_SECRET_NAME',
  'COUNTERSIGN_ISSUER',
  'COUNTERSIGN_KEYS_DIR',
  'COUNTERSIGN_LOG_LEVEL',
  'COUNTERSIGN_MAX_WAIT_SECONDS',
  'COUNTERSIGN_MCP_PROXY_TOKEN',
  'COUNTERSIGN_METRICS_PORT',
  'COUNTERSIGN_METRICS_TOKEN',
  'COUNTERSIGN_OIDC_CLAIM',
  'COUNTERSIGN_OIDC_CLIENT_ID',
  'COUNTERSIGN_OIDC_CLIENT_SECRET',
  'COUNTERSIGN_OIDC_DEV',
  'COUNTERSIGN_OIDC_ISSUER',
  'COUNTERSIGN_OUTBOX_POLL_MS',
  'COUNTERSIGN_PACE_UPDATES',
  'COUNTERSIGN_POLICY',
  'COUNTERSIGN_QUEUE_PREFIX',
  'COUNTERSIGN_RATE_LIMIT_PER_IP',
  'COUNTERSIGN_RATE_LIMIT_PER_KEY',
  'COUNTERSIGN_RATE_LIMIT_WINDOW_SECONDS',
  'COUNTERSIGN_RELEASE_AUDIENCE',
  'COUNTERSIGN_RELEASE_TTL_SECONDS',
  'COUNTERSIGN_ROLE',
  'COUNTERSIGN_SIGNING_KEY',
  'COUNTERSIGN_SIGNING_KEY_FILE',
  'COUNTERSIGN_SKIP_MIGRATIONS',
  'COUNTERSIGN_STATE_DIR',
  'COUNTERSIGN_SWEEP_SECONDS',
  'COUNTERSIGN_TOKEN',
  'COUNTERSIGN_TRUST_PROXY',
  'COUNTERSIGN_URL',
  'COUNTERSIGN_WEBHOOK_SECRET',
  'COUNTERSIGN_WEBHOOK_SECRET_FILE',
  'COUNTERSIGN_WORKER_CONCURRENCY',
];

/** Open-ended names: one variable per executor secret (COUNTERSIGN_EXECUTOR_SECRET_<NAME>). */
export const VARIABLE_FAMILIES: readonly string[] = ['COUNTERSIGN_EXECUTOR_SECRET_'];

/**
 * Stops on a COUNTERSIGN_ variable that is a near miss of a known one (a misspelt
 * COUNTERSIGN_METRICS_TOKEN would leave /metrics open), naming it and the setting it resembles,
 * never its value; returns the other unknown names, for the caller to log.
 */
export function checkVariableNames(env: NodeJS.ProcessEnv): string[] {
  const strays = strayVariables(env, KNOWN_VARIABLES, { prefix: 'COUNTERSIGN_', families: VARIABLE_FAMILIES });
  const misspelt = misspeltVariablesError(strays);
  if (misspelt) throw misspelt;
  return strays.map((s) => s.name);
}
