import { z } from 'zod';
import { commaList, parseEnv, splitList } from '@countersign/config/env';

// The queue engine's own settings, parsed once from the environment at register(). A bad
// value stops the service naming the variable (never echoing the value).

const DEFAULT_PACING: Record<string, number> = { slack: 1_000, teams: 1_000 };

// Naming one channel keeps the defaults for the others: "teams=2000" must not switch Slack
// pacing off.
const pacing = z
  .string()
  .transform((text, ctx) => {
    const out: Record<string, number> = { ...DEFAULT_PACING };
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
  /** Fallback poll of the outbox, for notifications missed while LISTEN was down. */
  COUNTERSIGN_OUTBOX_POLL_MS: z.coerce.number().int().min(50).max(60_000).default(1_000),
  /**
   * Minimum milliseconds between two messages to one channel target, per channel. Slack asks
   * for about one message per second per channel; Teams allows a few per conversation.
   */
  COUNTERSIGN_CHANNEL_PACING_MS: pacing.default(DEFAULT_PACING),
  /**
   * Channels whose limits count every operation on a conversation, card updates included
   * (Teams); their updates take the same pacing turn as posts. Slack rate-limits updates per
   * method, not per channel, so its updates are not paced.
   */
  COUNTERSIGN_PACE_UPDATES: commaList('teams').transform((names) => new Set(names)),
});

export type WorkerSettings = z.output<typeof WorkerSettingsSchema>;

export function parseWorkerSettings(env: NodeJS.ProcessEnv): WorkerSettings {
  return parseEnv(WorkerSettingsSchema, env, 'worker');
}
