import type { ChannelCatalog } from '@countersign/core';
import type { WorkerSettings } from './settings.ts';

// How the queue paces each channel: what the channel's definition says, unless the environment
// says otherwise for it. The worker names no channel itself.

export interface ChannelPacing {
  /** Minimum milliseconds between two messages to one target, by channel (0 or missing: none). */
  intervals: Record<string, number>;
  /** Channels whose card updates take the same pacing turn as posts. */
  pacedUpdates: Set<string>;
}

export function channelPacing(catalog: ChannelCatalog, settings: Pick<WorkerSettings, 'COUNTERSIGN_CHANNEL_PACING_MS' | 'COUNTERSIGN_PACE_UPDATES'>): ChannelPacing {
  const intervals: Record<string, number> = {};
  for (const d of catalog.definitions) if (d.pacing) intervals[d.name] = d.pacing.intervalMs;
  Object.assign(intervals, settings.COUNTERSIGN_CHANNEL_PACING_MS);
  const pacedUpdates = settings.COUNTERSIGN_PACE_UPDATES ?? new Set(catalog.definitions.filter((d) => d.pacing?.updates).map((d) => d.name));
  return { intervals, pacedUpdates };
}
