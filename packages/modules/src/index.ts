import type { FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { ApprovalChannel, ChannelName, Clock, ConfigView, DecisionDelivery, Gate, GateStore, KeyService } from '@countersign/core';
import type { PrismaClient } from '@countersign/db';
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
  prisma: PrismaClient;
  store: GateStore;
  config: ConfigView;
  clock: Clock;
  redis: Redis;
  /** Chat channels by name; filled by channel modules during register(). */
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

export interface ServiceModule {
  name: string;
  /** Before listening: routes, content parsers, channels. */
  register(ctx: ServiceContext): Promise<void> | void;
  /** After listening: workers, dispatchers, timers. */
  start?(ctx: ServiceContext): Promise<void> | void;
}
