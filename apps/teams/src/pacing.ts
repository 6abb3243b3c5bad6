import { baseConversationId } from './conversations.ts';

// Teams' documented limits for a bot (subject to change; a 429 is the real signal):
// per conversation 7 operations/1 s, 8/2 s, 60/30 s, 1800/3600 s; per app per tenant 50 RPS.
// One operation per second per conversation stays inside the 1 s, 2 s and 30 s windows; only an
// hour of uninterrupted traffic into one conversation (3600 > 1800) would reach the hourly one,
// and its 429s are retried like any other.

export const TEAMS_PACING = {
  /** Sustained operations (post, update, reply) per conversation. */
  perConversation: { max: 1, durationMs: 1000 },
  /** All Teams operations of this bot in the tenant. */
  perTenant: { max: 50, durationMs: 1000 },
} as const;

/** The pacing key of a Teams operation: one bucket per conversation (threads share it). */
export function teamsPaceKey(conversationId: string): string {
  return `teams:${baseConversationId(conversationId)}`;
}
