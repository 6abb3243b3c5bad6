import { placesByChannel, type Requirement } from '@countersign/contracts';
import type { ActionRecord } from '@countersign/core';
import type { JobPayload } from '@countersign/queue';

// When an escalated action's timers are due, computed from Postgres timestamps only (the
// action's createdAt and expiresAt), so the dispatcher and the sweeper always agree and a
// lost Redis can be rebuilt exactly.

export type TimerJob =
  | { name: 'remind'; payload: JobPayload<'remind'>; dueAt: Date }
  | { name: 'escalate-tier'; payload: JobPayload<'escalate-tier'>; dueAt: Date }
  | { name: 'expire'; payload: JobPayload<'expire'>; dueAt: Date };

export function timersFor(action: ActionRecord): TimerJob[] {
  const hints = action.requirement?.channels;
  const expiresAt = action.expiresAt;
  if (!hints || !expiresAt) return [];
  const at = (seconds: number) => new Date(action.createdAt.getTime() + seconds * 1000);
  const out: TimerJob[] = [];
  // Reminders and tiers after the expiry would never be seen by anyone: skipped.
  hints.reminders.forEach((seconds, index) => {
    const dueAt = at(seconds);
    if (dueAt < expiresAt) out.push({ name: 'remind', payload: { actionId: action.id, index }, dueAt });
  });
  hints.tiers.forEach((tier, i) => {
    const dueAt = at(tier.afterSeconds);
    if (dueAt < expiresAt) out.push({ name: 'escalate-tier', payload: { actionId: action.id, tier: i + 1 }, dueAt });
  });
  out.push({ name: 'expire', payload: { actionId: action.id }, dueAt: expiresAt });
  return out;
}

/** Where one tier asks: people, and each channel's places under its name. */
export interface TierHints {
  people: string[];
  places: Record<string, string[]>;
}

/** Where tier `tier` asks: 0 is the rule's first ask, n is tiers[n - 1]; undefined if there is no such tier. */
export function hintsForTier(requirement: Requirement, tier: number): TierHints | undefined {
  const hints = tier === 0 ? requirement.channels : requirement.channels.tiers[tier - 1];
  return hints ? { people: hints.people, places: placesByChannel(hints) } : undefined;
}

/** The hints one channel resolves: its own places plus the people (each channel DMs them if it can). */
export function hintsForChannel(hints: TierHints, channel: string): { channels: string[]; people: string[] } {
  return { channels: hints.places[channel] ?? [], people: hints.people };
}
