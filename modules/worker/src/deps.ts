import type { ApprovalChannel, ChannelName, Clock, ConfigView, DecisionDelivery, Gate, GateStore } from '@countersign/core';
import type { PrismaCardStore } from '@countersign/db';
import type { DoneMarks, JobQueues, Pacer, RedisMutex } from '@countersign/queue';
import type { Logger } from 'pino';
import type { WorkerMetrics } from './metrics.ts';

/** The one typed resources object every processor, the dispatcher and the sweeper share. */
export interface WorkerDeps {
  gate: Gate;
  store: GateStore;
  config: ConfigView;
  clock: Clock;
  logger: Logger;
  cards: PrismaCardStore;
  /** Chat channels registered by channel modules (read once the service has started). */
  channels: ReadonlyMap<ChannelName, ApprovalChannel>;
  queues: JobQueues;
  pacer: Pacer;
  /** Channels whose card updates are paced like posts (COUNTERSIGN_PACE_UPDATES). */
  pacedUpdates?: ReadonlySet<string>;
  mutex: RedisMutex;
  marks: DoneMarks;
  metrics: WorkerMetrics;
  /** Looked up when a delivery job runs, so a module may register it at any point before. */
  deliveries(): DecisionDelivery | undefined;
  /** Lease of the per-action card lock (renewed while held); CARD_LOCK_MS unless set (tests shorten it). */
  cardLockMs?: number;
}

/** A claim older than this is presumed abandoned (its worker died mid-call) and may be taken over. */
export const CARD_CLAIM_LEASE_MS = 60_000;
/** Posting and updating one action's cards never interleave (see jobs/card-lock.ts); renewed while held. */
export const CARD_LOCK_MS = 30_000;
/**
 * How far before a card row's creation a channel looks for an earlier, unconfirmed post of it:
 * the chat service stamps messages with its own clock, which may run behind ours.
 */
export const FIND_CARD_SKEW_MS = 2 * 60_000;
