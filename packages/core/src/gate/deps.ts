import type { ConfigView } from '../config-view.ts';
import type { ActionRecord } from '../action.ts';
import type { Clock, DecisionBus, GateStore } from '../ports.ts';
import type { DestinationPolicy } from '../destinations.ts';

/** Mints release tokens for approved actions (JWS EdDSA, see @countersign/evidence). */
export interface ReleaseIssuer {
  issue(action: ActionRecord): Promise<{ token: string; expiresAt: Date }>;
}

/** The one typed resources object every gate use case shares. */
export interface GateDeps {
  store: GateStore;
  config: ConfigView;
  clock: Clock;
  bus: DecisionBus;
  release: ReleaseIssuer;
  /** Where callbackUrl (and held execution) may point. */
  destinations: DestinationPolicy;
}
