import { z } from 'zod';
import { configFilePath, parseEnv, settingsIssue } from '@countersign/config/env';

// The console's settings, parsed once at register(). Production names its identity provider
// (issuer, client id and secret); `npm start` runs the embedded development provider instead
// (COUNTERSIGN_OIDC_DEV=1), which refuses to start with NODE_ENV=production.
const flag = z
  .enum(['0', '1', 'true', 'false', ''])
  .default('')
  .transform((v) => v === '1' || v === 'true');

export const ConsoleSettingsSchema = z
  .object({
    COUNTERSIGN_OIDC_ISSUER: z.url().optional(),
    COUNTERSIGN_OIDC_CLIENT_ID: z.string().min(1).optional(),
    COUNTERSIGN_OIDC_CLIENT_SECRET: z.string().min(1).optional(),
    /** The claim that names a directory person: a verified `email`, or `sub` equal to the person's id. */
    COUNTERSIGN_OIDC_CLAIM: z.enum(['email', 'sub']).default('email'),
    /** Run the embedded development identity provider with the directory's people (npm start). */
    COUNTERSIGN_OIDC_DEV: flag,
    NODE_ENV: z.string().optional(),
    COUNTERSIGN_CONSOLE_IDLE_MINUTES: z.coerce.number().int().min(1).max(24 * 60).default(30),
    COUNTERSIGN_CONSOLE_SESSION_HOURS: z.coerce.number().int().min(1).max(7 * 24).default(12),
    COUNTERSIGN_POLICY: configFilePath('config/policy.yaml'),
  })
  .superRefine((s, ctx) => {
    if (s.COUNTERSIGN_OIDC_DEV && s.NODE_ENV === 'production') {
      settingsIssue(ctx, 'COUNTERSIGN_OIDC_DEV', 'the embedded development identity provider refuses to run with NODE_ENV=production; set COUNTERSIGN_OIDC_ISSUER, _CLIENT_ID and _CLIENT_SECRET');
    }
    const named = [s.COUNTERSIGN_OIDC_ISSUER, s.COUNTERSIGN_OIDC_CLIENT_ID, s.COUNTERSIGN_OIDC_CLIENT_SECRET].filter(Boolean).length;
    if (named !== 0 && named !== 3) {
      settingsIssue(ctx, 'COUNTERSIGN_OIDC_ISSUER', 'COUNTERSIGN_OIDC_ISSUER, COUNTERSIGN_OIDC_CLIENT_ID and COUNTERSIGN_OIDC_CLIENT_SECRET go together');
    }
  });

export type ConsoleSettings = z.output<typeof ConsoleSettingsSchema>;

export function parseConsoleSettings(env: NodeJS.ProcessEnv): ConsoleSettings {
  return parseEnv(ConsoleSettingsSchema, env, 'console');
}
