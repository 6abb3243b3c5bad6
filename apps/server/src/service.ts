import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { ActionReads, destinationAllowlist, Gate, KeyService, recordConfigChanges, systemClock, type Caller, type Clock } from '@countersign/core';
import { watchConfig, type ConfigSnapshot } from '@countersign/config';
import { executorDestinationProblems } from '@countersign/policy';
import { ApiKeyCache, Database, PgDecisionBus } from '@countersign/db';
import { loadKeyring, type Keyring } from '@countersign/evidence';
import { buildHttpApp } from './http/app.ts';
import { bearerAuth } from './http/auth.ts';
import { releaseIssuer } from './release-issuer.ts';
import type { RouteContext } from './routes/context.ts';
import { registerRoutes } from './routes/index.ts';
import { serviceState, type Role, type ServiceContext, type ServiceModule } from '@countersign/modules';
import { modules as defaultModules } from './modules.ts';
import type { Settings } from './settings.ts';

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
 * Wires the engine to Postgres, Redis, the config files and HTTP, and starts listening.
 * Everything started here is stopped by `stop()`, in reverse order.
 */
export async function startService(opts: ServiceOptions): Promise<RunningService> {
  const { settings, logger } = opts;
  const clock = opts.clock ?? systemClock;
  const resolve = (p: string) => path.resolve(opts.rootDir, p);
  const stops: (() => Promise<unknown>)[] = [];
  const stop = async () => {
    for (const s of stops.reverse()) await s();
  };

  try {
    const keyring = await loadKeyring({
      pem: settings.COUNTERSIGN_SIGNING_KEY,
      pemFile: settings.COUNTERSIGN_SIGNING_KEY_FILE ? resolve(settings.COUNTERSIGN_SIGNING_KEY_FILE) : undefined,
      dir: resolve(settings.COUNTERSIGN_KEYS_DIR),
      create: opts.createSigningKey ?? true,
    });

    const db = Database.open(settings.DATABASE_URL, { max: settings.COUNTERSIGN_DB_POOL });
    stops.push(() => db.close());
    // API keys are cached only while the decision bus hears revocations (see ApiKeyCache).
    const keyCache = new ApiKeyCache();
    const store = db.gateStore(keyring, () => clock.now(), { keyCache });

    const executorDestinations = destinationAllowlist([...settings.COUNTERSIGN_CALLBACK_ALLOWLIST, ...settings.COUNTERSIGN_EXECUTOR_ALLOWLIST]);
    // A bad file at start stops the service (ConfigError names file:line:column); a bad file
    // on reload keeps the last good one and is logged loudly.
    // A changed file decides only once its `config.changed` artifact is sealed: until then the
    // previous configuration stays in force, so no decision is ever made under rules the
    // evidence does not show. A failed seal is retried; a newer file supersedes it.
    let accepted: ConfigSnapshot | undefined;
    let sealing: ConfigSnapshot | undefined;
    let retry: NodeJS.Timeout | undefined;
    const seal = (snapshot: ConfigSnapshot) => {
      sealing = snapshot;
      clearTimeout(retry);
      recordConfigChanges(store, snapshot).then(
        () => {
          if (sealing !== snapshot) return;
          accepted = snapshot;
          logger.info({ policy: snapshot.policy.digest, directory: snapshot.directory.digest }, 'configuration reloaded and sealed');
        },
        (err: Error) => {
          if (sealing !== snapshot) return;
          logger.error({ err: err.message }, 'could not seal the configuration change; the previous configuration stays in force; retrying');
          retry = setTimeout(() => seal(snapshot), 5_000);
          retry.unref();
        },
      );
    };
    const watcher = watchConfig({
      policyPath: resolve(settings.COUNTERSIGN_POLICY),
      directoryPath: resolve(settings.COUNTERSIGN_DIRECTORY),
      onChange: (snapshot) => seal(snapshot),
      onError: (err) => logger.error({ err: err.message }, 'configuration reload REJECTED; keeping the last good configuration'),
      // A policy whose executor points outside the allow-list is refused whole, at start and
      // on reload (execution checks again before every send).
      validate: (snapshot) => executorDestinationProblems(snapshot.policy, (url) => executorDestinations.allows(url)),
    });
    stops.push(async () => {
      clearTimeout(retry);
      watcher.close();
    });
    accepted = watcher.current();
    const config = { current: () => accepted! };

    const bus = new PgDecisionBus(settings.DATABASE_URL, logger);
    bus.listen(keyCache);

    const redis = new Redis(settings.REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1, enableOfflineQueue: false });
    redis.on('error', (err: Error) => logger.warn({ err: err.message }, 'redis connection problem'));
    await redis.connect();
    stops.push(async () => redis.disconnect());

    const gate = new Gate({
      store,
      config,
      clock,
      bus,
      destinations: destinationAllowlist(settings.COUNTERSIGN_CALLBACK_ALLOWLIST),
      release: releaseIssuer(keyring, {
        issuer: settings.COUNTERSIGN_ISSUER,
        audience: settings.COUNTERSIGN_RELEASE_AUDIENCE,
        ttlSeconds: settings.COUNTERSIGN_RELEASE_TTL_SECONDS,
        now: () => clock.now(),
      }),
    });
    const keys = new KeyService(store, config, clock);
    await recordConfigChanges(store, config.current());

    const app = buildHttpApp({
      logger,
      bodyLimit: settings.COUNTERSIGN_BODY_LIMIT_BYTES,
      readinessChecks: [
        { name: 'db', check: () => db.ping() },
        { name: 'redis', check: async () => void (await redis.ping()) },
      ],
    });
    stops.push(() => app.close());
    // Started (so stopped) after the app: closing the bus first releases every long-poll, so
    // app.close() need not wait them out.
    await bus.start();
    stops.push(() => bus.close());
    // Who reads what: the parties of an action, plus audit roles (redacted unless allowed more).
    const reads = new ActionReads(gate.deps, db.actions, {
      auditRoles: settings.COUNTERSIGN_AUDIT_ROLES,
      unredactedRoles: settings.COUNTERSIGN_AUDIT_UNREDACTED_ROLES,
    });
    const ctx: RouteContext = {
      gate,
      keys,
      keyring,
      audit: db.auditExport(keyring),
      settings,
      reads,
      authenticate: bearerAuth<Caller>(async (token) => (await keys.authenticate(token)) ?? null),
    };
    registerRoutes(app, ctx);

    let listeningUrl = '';
    const context: ServiceContext = {
      publicUrl: () => settings.PUBLIC_URL ?? listeningUrl,
      env: opts.env ?? process.env,
      databaseUrl: settings.DATABASE_URL,
      reads,
      audit: ctx.audit,
      logger,
      role: opts.role ?? settings.COUNTERSIGN_ROLE,
      rootDir: opts.rootDir,
      app,
      gate,
      keys,
      keyring,
      db,
      store,
      config,
      clock,
      redis,
      metrics: app.metricsRegistry,
      state: serviceState(),
      channels: new Map(),
      onStop: (fn) => stops.push(fn),
    };
    const modules = opts.modules ?? defaultModules;
    for (const m of modules) await m.register(context);

    await app.listen({ host: settings.HOST, port: settings.PORT });
    const address = app.server.address();
    const port = typeof address === 'object' && address ? address.port : settings.PORT;
    listeningUrl = `http://${settings.HOST}:${port}`;
    const url = settings.PUBLIC_URL ?? listeningUrl;
    for (const m of modules) await m.start?.(context);
    return { app, url, gate, keys, keyring, context, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
