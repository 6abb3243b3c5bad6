import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { systemClock, type Clock, type Gate, type KeyService } from '@countersign/core';
import type { Keyring } from '@countersign/evidence';
import type { Role, ServiceContext, ServiceModule } from '@countersign/modules';
import { channelCatalogFor } from './channel-catalog.ts';
import { serviceMetrics } from './metrics/index.ts';
import { modules as defaultModules } from './modules.ts';
import type { Settings } from './settings.ts';
import { decisionBus, startBus } from './startup/bus.ts';
import { registerModules, startModules } from './startup/compose.ts';
import { watchSealedConfig } from './startup/config.ts';
import { buildGate } from './startup/gate.ts';
import { buildApp, listen } from './startup/http.ts';
import { loadSigningKeys } from './startup/keys.ts';
import { connectRedis } from './startup/redis.ts';
import { registerApiRoutes } from './startup/routes.ts';
import { Stops } from './startup/stops.ts';
import { traceChannels } from './telemetry/index.ts';
import { openDatabase, openEngineStore } from './startup/store.ts';

export interface RunningService {
  app: FastifyInstance;
  url: string;
  gate: Gate;
  keys: KeyService;
  keyring: Keyring;
  context: ServiceContext;
  stop(): Promise<void>;
}

export interface ServiceOptions {
  settings: Settings;
  logger: Logger;
  /** Relative config and key paths resolve against this folder. */
  rootDir: string;
  clock?: Clock;
  /** Defaults to settings.COUNTERSIGN_ROLE. */
  role?: Role;
  /**
   * Generate the first signing key when the key directory is empty. True for the embedded
   * default (`npm start`, tests); production (main.ts) only when COUNTERSIGN_KEYS_DIR is set
   * explicitly, so a container never signs with a key that vanishes with it.
   */
  createSigningKey?: boolean;
  /** Feature modules; defaults to modules.ts. Tests may pass their own list. */
  modules?: ServiceModule[];
  /** Environment the modules read their own settings from; defaults to process.env. */
  env?: NodeJS.ProcessEnv;
}

/**
 * Wires the engine to Postgres, Redis, the config files and HTTP, and starts listening, one
 * named step at a time (startup/). Everything started here is stopped by `stop()`, in reverse
 * order; a step that fails stops what the steps before it started.
 */
export async function startService(opts: ServiceOptions): Promise<RunningService> {
  const { settings, logger } = opts;
  const clock = opts.clock ?? systemClock;
  const role = opts.role ?? settings.COUNTERSIGN_ROLE;
  const modules = opts.modules ?? defaultModules;
  const resolve = (p: string) => path.resolve(opts.rootDir, p);
  const stops = new Stops();
  const stop = () => stops.stopAll();

  try {
    const keyring = loadSigningKeys(settings, resolve, opts.createSigningKey ?? true);
    const db = openDatabase(settings, stops);
    // One registry for the service (/metrics, ctx.metrics); the engine reports into it.
    const metrics = serviceMetrics({ logger, clock, backlog: db.metrics });
    const { keyCache, store } = await openEngineStore({ db, keyring, clock, logger, observer: metrics.observer });
    const channelCatalog = channelCatalogFor(modules);
    const config = watchSealedConfig({ settings, logger, store, channels: channelCatalog, reloads: metrics.configReloads, resolve, stops });
    const bus = decisionBus(settings, logger, keyCache);
    const redis = await connectRedis(settings, logger, stops);
    const { gate, keys } = await buildGate({ settings, store, config, clock, bus, keyring, observer: metrics.observer, actionTrace: (id) => db.outbox.traceOf(id) });
    const app = buildApp({ settings, logger, role, db, redis, registry: metrics.registry, stops });
    await startBus(bus, stops);
    const { reads, audit } = registerApiRoutes(app, { settings, gate, keys, keyring, db });

    let listeningUrl = '';
    const context = await registerModules(modules, {
      publicUrl: () => settings.PUBLIC_URL ?? listeningUrl,
      env: opts.env ?? process.env,
      databaseUrl: settings.DATABASE_URL,
      reads,
      audit,
      logger,
      role,
      rootDir: opts.rootDir,
      app,
      gate,
      keys,
      keyring,
      db: metrics.repositories(db),
      store,
      config,
      clock,
      redis,
      metrics: app.metricsRegistry,
      channelCatalog,
    }, stops);
    metrics.instrument(context);
    traceChannels(context.channels);

    listeningUrl = await listen(app, settings, stops);
    await startModules(modules, context);
    return { app, url: settings.PUBLIC_URL ?? listeningUrl, gate, keys, keyring, context, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
