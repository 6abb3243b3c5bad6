import {
  destinationAllowlist,
  KeyService,
  recordConfigChanges,
  type Clock,
  type ConfigView,
  type DecisionBus,
  type GateObserver,
  type GateStore,
} from '@countersign/core';
import type { Keyring } from '@countersign/evidence';
import { releaseIssuer } from '../release-issuer.ts';
import { TracedGate, traceEvents, type ActionTraceLookup } from '../telemetry/index.ts';
import type { Settings } from '../settings.ts';

/** The engine and the key service over the store, then the configuration in force sealed. */
export async function buildGate(deps: {
  settings: Settings;
  store: GateStore;
  config: ConfigView;
  clock: Clock;
  bus: DecisionBus;
  keyring: Keyring;
  observer: GateObserver;
  /** Where an action's trace context is stored (tracing; asked only while it is on). */
  actionTrace: ActionTraceLookup;
}) {
  const { settings, store, config, clock, bus, keyring } = deps;
  // Traced: spans when an OpenTelemetry SDK runs, the API's no-op otherwise (telemetry/).
  const gate = new TracedGate({
    store: traceEvents(store),
    config,
    clock,
    bus,
    destinations: destinationAllowlist(settings.COUNTERSIGN_CALLBACK_ALLOWLIST),
    observer: deps.observer,
    release: releaseIssuer(keyring, {
      issuer: settings.COUNTERSIGN_ISSUER,
      audience: settings.COUNTERSIGN_RELEASE_AUDIENCE,
      ttlSeconds: settings.COUNTERSIGN_RELEASE_TTL_SECONDS,
      now: () => clock.now(),
    }),
  }, deps.actionTrace);
  const keys = new KeyService(store, config, clock);
  await recordConfigChanges(store, config.current());
  return { gate, keys };
}
