import type { FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { ActionReads, ApprovalChannel, AuditExport, ChannelName, Clock, ConfigView, DecisionDelivery, Gate, GateStore, KeyService } from '@countersign/core';
import type { Repositories } from '@countersign/db';
import type { AnyChannelDefinition, ChannelCatalog } from '@countersign/core';
import type { Keyring } from '@countersign/evidence';

/** Which parts of the service this process runs (`--role`): HTTP, queue workers, or both. */
export type Role = 'all' | 'api' | 'worker';

/**
 * What a feature module (Slack, Teams, the queue engine, releases, deliveries) is handed. Each
 * module parses its own settings from `env` with zod and registers its routes, channels and
 * workers here; service.ts knows only the list in modules.ts.
 */
export interface ServiceContext {
  /** The URL this service is reachable at (PUBLIC_URL, else the listening address). */
  publicUrl: () => string;
  env: NodeJS.ProcessEnv;
  logger: Logger;
  role: Role;
  rootDir: string;
  app: FastifyInstance;
  gate: Gate;
  keys: KeyService;
  keyring: Keyring;
  /** The tables, through repositories only (packages/db); never a database client. */
  db: Repositories;
  /** The read side of the engine: action pages, lists and inboxes, evidence (the console). */
  reads: ActionReads;
  /** The approval history as export lines (the console's download for auditors). */
  audit: AuditExport;
  store: GateStore;
  config: ConfigView;
  clock: Clock;
  redis: Redis;
  /** The Prometheus registry /metrics serves: modules register their counters here. */
  metrics: Registry;
  /** What a module keeps for this service between register() and start(), under its own keys. */
  state: ServiceState;
  /**
   * The installed channels' definitions (names, hint and identity schemas, pacing), from every
   * module's `channels`; known before any module registers, as the config loaders need them.
   */
  channelCatalog: ChannelCatalog;
  /**
   * Chat channels by name; a channel module sets its implementation here during register(),
   * under the name of a definition it declares in `channels` (checked at start).
   */
  channels: Map<ChannelName, ApprovalChannel>;
  /**
   * Webhooks and held execution for final decisions; set during register() by the module
   * that implements them. The queue's deliver-webhook / execute-action jobs look it up when
   * they run, and complete with a log line when none is registered.
   */
  deliveries?: DecisionDelivery;
  /**
   * Postgres URL for modules that need a connection of their own (LISTEN). Optional: modules
   * fall back to `env.DATABASE_URL`, then to polling.
   */
  databaseUrl?: string;
  /** Runs at stop, in reverse order of registration. */
  onStop(fn: () => Promise<unknown>): void;
}

/**
 * A typed slot of ServiceState. A module creates its keys once, at module level: a key holds
 * no state itself, so two services in one process (tests, role splits) never share any.
 */
export class StateKey<T> {
  declare private readonly type: T;
  constructor(readonly description: string) {}
}

export interface ServiceState {
  get<T>(key: StateKey<T>): T | undefined;
  set<T>(key: StateKey<T>, value: T): void;
}

/** One per service (startService makes it). */
export function serviceState(): ServiceState {
  const values = new Map<StateKey<unknown>, unknown>();
  return {
    get: <T>(key: StateKey<T>) => values.get(key) as T | undefined,
    set: (key, value) => void values.set(key, value),
  };
}

export interface ServiceModule {
  name: string;
  /**
   * The channels this module implements (ChannelDefinition: name, schemas). Declared here, not
   * in register(), so the policy and directory accept their keys even while the module is off.
   */
  channels?: readonly AnyChannelDefinition[];
  /** Before listening: routes, content parsers, channels. */
  register(ctx: ServiceContext): Promise<void> | void;
  /** After listening: workers, dispatchers, timers. */
  start?(ctx: ServiceContext): Promise<void> | void;
}
