import type { ApprovalChannel, ChannelName, Clock, ConfigView, DecisionDelivery, Gate, GateStore } from '@countersign/core';
import type { PgCardStore } from '@countersign/db';
import type { JobQueues, Pacer, RedisMutex } from '@countersign/queue';
import type { Logger } from 'pino';
import type { WorkerMetrics } from './metrics.ts';

/** The one typed resources object every processor, the dispatcher and the sweeper share. */
export interface WorkerDeps {
  gate: Gate;
  store: GateStore;
  config: ConfigView;
  clock: Clock;
  logger: Logger;
  cards: PgCardStore;
  /** Chat channels registered by channel modules (read once the service has started). */
  channels: ReadonlyMap<ChannelName, ApprovalChannel>;
  queues: JobQueues;
  pacer: Pacer;
  /** Channels whose card updates are paced like posts (COUNTERSIGN_PACE_UPDATES). */
  pacedUpdates?: ReadonlySet<string>;
  mutex: RedisMutex;
  metrics: WorkerMetrics;
  /** Looked up when a delivery job runs, so a module may register it at any point before. */
  deliveries(): DecisionDelivery | undefined;
  /** Lease of the per-action card lock (renewed while held); CARD_LOCK_MS unless set (tests shorten it). */
  cardLockMs?: number;
}

// How soon another worker takes over from one that died mid-post (kill -9, OOM, a lost node):
// a card must not wait a minute for a dead worker. Three clocks run from the death, side by
// side, and the card is posted once all three have run out:
//   1. BullMQ hands the job on once its lock has lapsed and a stalled check has seen it
//      (packages/queue JOB_LOCK_MS + STALLED_CHECK_MS: at most ~7 s, typically 4–6 s);
//   2. the action's card lock (CARD_LOCK_MS, renewed every third of it while held) lapses;
//   3. the ChannelCard claim's lease (CARD_CLAIM_LEASE_MS) runs out.
// Together a card appears 5–8 s after its worker died (test/bench/worker-recovery.ts measured
// 5.3–5.6 s; 60–61 s with the former 60 s claim lease, 30 s card lock and BullMQ's defaults).
//
// The claim lease can be that short because card rows are only ever claimed under the card
// lock (post-cards, and update-cards reconciling them): a live poster renews the lock while it
// works, so nobody else can claim its rows however slow the chat service is. Someone who holds
// the lock and finds a row still `claimed` by another job knows that job lost the lock: it died,
// or stalled past the lease. A stalled one that wakes up finds its claim taken (the claim's
// fence) and removes its late copy (send-once.ts removeOrphan), so a short lease costs at worst
// a duplicate that is taken back, never a card without a row. The lock's lease is renewed every
// third of it, so only an event loop blocked for more than ~3 s loses it; then the next render
// re-renders (post-cards rerenderIfNeeded).

/** Posting and updating one action's cards never interleave (see jobs/card-lock.ts); renewed while held. */
export const CARD_LOCK_MS = 5_000;
/**
 * A card claim older than this, found by the holder of the card lock, was abandoned (its
 * worker died mid-call or lost the lock) and is taken over: the same span as the lock itself.
 */
export const CARD_CLAIM_LEASE_MS = CARD_LOCK_MS;
/**
 * Notices and reminders are claimed without the card lock: only the lease tells a live sender
 * from a dead one, so it outlasts any channel call by far (Slack's time out after 10 s). How
 * late they come after a worker died matters less than a duplicate DM.
 */
export const NOTICE_CLAIM_LEASE_MS = 60_000;
/**
 * How far before a card row's creation a channel looks for an earlier, unconfirmed post of it:
 * the chat service stamps messages with its own clock, which may run behind ours.
 */
export const FIND_CARD_SKEW_MS = 2 * 60_000;
