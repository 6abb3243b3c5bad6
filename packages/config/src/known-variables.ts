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
  'COUNTERSIGN_DB_PREPARED_STATEMENTS',
  'COUNTERSIGN_DELIVERY_TIMEOUT_MS',
  'COUNTERSIGN_DIRECTORY',
  'COUNTERSIGN_ED25519',
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
 * The settings whose absence leaves something open (`/metrics` unauthenticated, or served on the
 * API's public port): a near miss of one of these, while it is itself unset, is taken for a typo
 * and stops the service. A near miss of any other setting only warns: missing, those fail closed
 * or keep a safe default, and an operator's own variable (a zone, a node) must not stop a deployment.
 */
export const FAIL_OPEN_WHEN_MISSING: readonly string[] = ['COUNTERSIGN_METRICS_TOKEN', 'COUNTERSIGN_METRICS_PORT'];

/** What a stray COUNTERSIGN_ variable is taken for: `suggestion` when it looks like a setting's typo. */
export interface UnknownVariable {
  name: string;
  suggestion?: string;
}

/**
 * Stops on a near miss of a setting that fails open when missing (a misspelt
 * COUNTERSIGN_METRICS_TOKEN would leave /metrics open), naming it and the setting, never its
 * value; returns the other unknown names, with the setting each may be a typo of, to log.
 * Kubernetes service links (a Service named countersign-db brings a DB_PORT=tcp://… of ours) are
 * not the operator's settings and are passed over.
 */
export function checkVariableNames(env: NodeJS.ProcessEnv): UnknownVariable[] {
  const strays = strayVariables(env, KNOWN_VARIABLES, { prefix: 'COUNTERSIGN_', families: VARIABLE_FAMILIES }).filter((s) => !isServiceLink(s.name, env));
  const typos = strays.filter((s) => s.suggestion !== undefined && FAIL_OPEN_WHEN_MISSING.includes(s.suggestion) && !env[s.suggestion]);
  const misspelt = misspeltVariablesError(typos);
  if (misspelt) throw misspelt;
  return strays;
}

/** A variable Kubernetes (or docker --link) made for a Service: a tcp:// address, or one of its family. */
function isServiceLink(name: string, env: NodeJS.ProcessEnv): boolean {
  if (/^tcp:\/\/|^udp:\/\//.test(env[name] ?? '')) return true;
  const service = /^(.*?)_(SERVICE_HOST|SERVICE_PORT(_.*)?|PORT(_\d+_(TCP|UDP)(_(PROTO|PORT|ADDR))?)?)$/.exec(name);
  return service !== null && env[`${service[1]}_SERVICE_HOST`] !== undefined;
}
