import { z } from 'zod';
import { parseEnv, splitList } from '@countersign/config/env';

// The queue engine's own settings, parsed once from the environment at register(). A bad
// value stops the service naming the variable (never echoing the value).

// Overrides only: each channel's defaults come from its definition (pacing.ts), so naming one
// channel here ("teams=2000") keeps the others' defaults.
const pacing = z
  .string()
  .transform((text, ctx) => {
    const out: Record<string, number> = {};
    for (const part of splitList(text)) {
      const m = /^([a-z][a-z0-9-]*)=(\d+)$/.exec(part);
      if (!m) {
        ctx.addIssue({ code: 'custom', message: `"${part}" is not channel=milliseconds (e.g. slack=1000,teams=1000)` });
        return z.NEVER;
      }
      out[m[1]!] = Number(m[2]);
    }
    return out;
  });

export const WorkerSettingsSchema = z.object({
  /** Key prefix of every queue in Redis; processes sharing a prefix share the work. */
  COUNTERSIGN_QUEUE_PREFIX: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, 'letters, digits, "_", "-", "." only (at most 64)').default('countersign'),
  /** Jobs each worker process runs at once, per queue (chat, timers, deliveries). */
  COUNTERSIGN_WORKER_CONCURRENCY: z.coerce.number().int().min(1).max(200).default(8),
  /** The sweeper rebuilds timers from Postgres and expires overdue actions this often. */
  COUNTERSIGN_SWEEP_SECONDS: z.coerce.number().int().min(1).max(3600).default(30),
  /**
   * The service's database pool (the server reads it too): card jobs' first attempts and the
   * dispatch transactions waiting on them take a share of it, never all of it.
   */
  COUNTERSIGN_DB_POOL: z.coerce.number().int().min(1).max(200).default(20),
  /** Fallback poll of the outbox, for notifications missed while LISTEN was down. */
  COUNTERSIGN_OUTBOX_POLL_MS: z.coerce.number().int().min(50).max(60_000).default(1_000),
  /**
   * Minimum milliseconds between two messages to one channel target, for the channels named
   * (`slack=1000,teams=2000`); the others keep their definition's default.
   */
  COUNTERSIGN_CHANNEL_PACING_MS: pacing.default({}),
  /**
   * The channels whose card updates take the same pacing turn as posts, replacing what the
   * channels' definitions say (Teams limits every operation on a conversation; Slack does not).
   */
  COUNTERSIGN_PACE_UPDATES: z
    .string()
    .optional()
    .transform((text) => (text === undefined ? undefined : new Set(splitList(text)))),
});

export type WorkerSettings = z.output<typeof WorkerSettingsSchema>;

export function parseWorkerSettings(env: NodeJS.ProcessEnv): WorkerSettings {
  return parseEnv(WorkerSettingsSchema, env, 'worker');
}
