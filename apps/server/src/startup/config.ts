import type { Logger } from 'pino';
import type { ChannelCatalog } from '@countersign/contracts';
import { destinationAllowlist, recordConfigChanges, type ConfigView, type GateStore } from '@countersign/core';
import { ConfigRejectedError, watchConfig, type ConfigSnapshot } from '@countersign/config';
import { executorDestinationProblems } from '@countersign/policy';
import type { ServiceMetrics } from '../metrics/index.ts';
import type { Settings } from '../settings.ts';
import { StartupError } from './startup-error.ts';
import type { Stops } from './stops.ts';

/**
 * Loads the policy and the directory and watches them. A bad file at start stops the service
 * (ConfigError names file:line:column); a bad file on reload keeps the last good one and is
 * logged loudly. A changed file decides only once its `config.changed` artifact is sealed:
 * until then the previous configuration stays in force, so no decision is ever made under
 * rules the evidence does not show. A failed seal is retried; a newer file supersedes it.
 */
export function watchSealedConfig(deps: {
  settings: Settings;
  logger: Logger;
  store: GateStore;
  channels: ChannelCatalog;
  reloads: ServiceMetrics['configReloads'];
  resolve: (p: string) => string;
  stops: Stops;
}): ConfigView {
  const { settings, logger, store, reloads, stops } = deps;
  const executorDestinations = destinationAllowlist([...settings.COUNTERSIGN_CALLBACK_ALLOWLIST, ...settings.COUNTERSIGN_EXECUTOR_ALLOWLIST]);
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
        reloads.inc({ result: 'ok' });
        logger.info({ policy: snapshot.policy.digest, directory: snapshot.directory.digest }, 'configuration reloaded and sealed');
      },
      (err: Error) => {
        if (sealing !== snapshot) return;
        logger.error({ err: err.message }, 'could not seal the configuration change; the previous configuration stays in force; retrying');
        reloads.inc({ result: 'failed' });
        retry = setTimeout(() => seal(snapshot), 5_000);
        retry.unref();
      },
    );
  };
  const policyPath = deps.resolve(settings.COUNTERSIGN_POLICY);
  const directoryPath = deps.resolve(settings.COUNTERSIGN_DIRECTORY);
  const watcher = startWatching(policyPath, directoryPath, () => watchConfig({
    channels: deps.channels,
    policyPath,
    directoryPath,
    onChange: (snapshot) => seal(snapshot),
    onError: (err) => {
      logger.error({ err: err.message }, 'configuration reload REJECTED; keeping the last good configuration');
      reloads.inc({ result: 'failed' });
    },
    // A policy whose executor points outside the allow-list is refused whole, at start and
    // on reload (execution checks again before every send).
    validate: (snapshot) => [
      ...executorDestinationProblems(snapshot.policy, (url) => executorDestinations.allows(url)),
      ...(settings.production ? demoProblems(snapshot, settings) : []),
    ],
  }));
  stops.add(async () => {
    clearTimeout(retry);
    watcher.close();
  });
  accepted = watcher.current();
  return { current: () => accepted! };
}

/**
 * The repository's config/ is the demo organisation, each file marked `demo: true`: in
 * production it never decides (a deployment that mounted it unchanged stops at start; a reload
 * to it is refused), whatever the paths are named.
 */
function demoProblems(snapshot: ConfigSnapshot, settings: Settings): string[] {
  const problems: string[] = [];
  const demo = (variable: string, file: string) =>
    `${variable}: ${file} is the demo ${variable === 'COUNTERSIGN_POLICY' ? 'policy' : 'directory'} (demo: true), refused with NODE_ENV=production: write your organisation's own (and drop the demo line)`;
  if (snapshot.policy.demo) problems.push(demo('COUNTERSIGN_POLICY', settings.COUNTERSIGN_POLICY));
  if (snapshot.directory.demo) problems.push(demo('COUNTERSIGN_DIRECTORY', settings.COUNTERSIGN_DIRECTORY));
  return problems;
}

/**
 * A bad file at start is one line naming the variable that points at it and file:line:column
 * (a wrong mount path is the likeliest first-start error in production), not a stack trace.
 */
function startWatching<W>(policyPath: string, directoryPath: string, watch: () => W): W {
  try {
    return watch();
  } catch (err) {
    // Refused by the service's own checks (an executor outside the allow-list, the demo in
    // production): each problem already names what to change.
    if (err instanceof ConfigRejectedError) throw new StartupError(err.message);
    if (!(err instanceof Error) || err.name !== 'ConfigError') throw err;
    const file = (err as Error & { file?: string }).file;
    const variable = file === policyPath ? 'COUNTERSIGN_POLICY' : file === directoryPath ? 'COUNTERSIGN_DIRECTORY' : 'COUNTERSIGN_POLICY or COUNTERSIGN_DIRECTORY';
    throw new StartupError(`${variable}: ${err.message}`);
  }
}
