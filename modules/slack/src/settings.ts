import { z } from 'zod';
import { parseEnv } from '@countersign/config/env';

// Slack's settings, parsed once at boot from the environment. No Slack variable at all means
// Slack is off; any Slack variable means the install is meant to work, so a missing or bad one
// stops the service naming the variable (never its value: tokens and secrets are secrets).

const SLACK_VARIABLES = ['SLACK_BOT_TOKEN', 'SLACK_SIGNING_SECRET', 'SLACK_TEAM_ID', 'SLACK_ENTERPRISE_ID', 'SLACK_API_URL', 'SLACK_SOCKET_MODE', 'SLACK_APP_TOKEN'] as const;

const SlackSettingsSchema = z
  .object({
    SLACK_BOT_TOKEN: z.string().regex(/^xoxb-\S+$/, 'must be a bot token (xoxb-…)'),
    /** Checks every request to POST /slack/events; not used in Socket Mode (nothing is posted to us). */
    SLACK_SIGNING_SECRET: z.string().min(8, 'must be the app signing secret').optional(),
    /** Socket Mode: clicks arrive over a WebSocket the service opens, for installs with no public ingress. */
    SLACK_SOCKET_MODE: z
      .enum(['1', '0', 'true', 'false'], 'must be 1 or 0')
      .default('0')
      .transform((v) => v === '1' || v === 'true'),
    /** The app-level token (connections:write) that opens the Socket Mode connection. */
    SLACK_APP_TOKEN: z.string().regex(/^xapp-\S+$/, 'must be an app-level token (xapp-…)').optional(),
    /** The one workspace whose people may decide (T…). */
    SLACK_TEAM_ID: z.string().regex(/^T[A-Z0-9]{2,}$/, 'must be a workspace id (T…)').optional(),
    /** Enterprise Grid: the organisation whose people may decide (E…). */
    SLACK_ENTERPRISE_ID: z.string().regex(/^E[A-Z0-9]{2,}$/, 'must be an enterprise id (E…)').optional(),
    /** Web API base URL, ending in "/"; only tests and proxies change it. */
    SLACK_API_URL: z.url().optional(),
    /** How long a `#name` → channel id lookup is trusted before Slack is asked again. */
    SLACK_CHANNEL_CACHE_SECONDS: z.coerce.number().int().min(0).max(86_400).default(600),
    /** Web API call timeout; a hanging Slack fails the job (retryable) instead of holding it. */
    SLACK_API_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(10_000),
  })
  .refine((s) => s.SLACK_TEAM_ID !== undefined || s.SLACK_ENTERPRISE_ID !== undefined, {
    path: ['SLACK_TEAM_ID'],
    message: 'set SLACK_TEAM_ID (the allowed workspace) and/or SLACK_ENTERPRISE_ID (Grid organisation)',
  })
  .refine((s) => s.SLACK_SOCKET_MODE || s.SLACK_SIGNING_SECRET !== undefined, {
    path: ['SLACK_SIGNING_SECRET'],
    message: 'required to check requests to POST /slack/events (or set SLACK_SOCKET_MODE=1 with SLACK_APP_TOKEN)',
  })
  .refine((s) => !s.SLACK_SOCKET_MODE || s.SLACK_APP_TOKEN !== undefined, {
    path: ['SLACK_APP_TOKEN'],
    message: 'required with SLACK_SOCKET_MODE=1: the app-level token (xapp-…) that opens the connection',
  })
  // Refused rather than ignored: an operator who sets an app token and silently gets an
  // HTTP-only install would wait for clicks that never arrive.
  .refine((s) => s.SLACK_SOCKET_MODE || s.SLACK_APP_TOKEN === undefined, {
    path: ['SLACK_SOCKET_MODE'],
    message: 'SLACK_APP_TOKEN is set: set SLACK_SOCKET_MODE=1 to receive clicks over Socket Mode, or unset SLACK_APP_TOKEN',
  });

export type SlackSettings = z.output<typeof SlackSettingsSchema>;

/** The settings, or null when no Slack variable is set (Slack off). */
export function parseSlackSettings(env: NodeJS.ProcessEnv): SlackSettings | null {
  const present = SLACK_VARIABLES.filter((name) => env[name] !== undefined && env[name] !== '');
  if (present.length === 0) return null;
  const s = parseEnv(SlackSettingsSchema, Object.fromEntries(Object.entries(env).filter(([, v]) => v !== '')), 'Slack');
  if (s.SLACK_API_URL && !s.SLACK_API_URL.endsWith('/')) s.SLACK_API_URL = `${s.SLACK_API_URL}/`;
  return s;
}
