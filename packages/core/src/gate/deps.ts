import type { ConfigView } from '../config-view.ts';
import type { ActionRecord } from '../action.ts';
import type { Clock, DecisionBus, GateStore } from '../ports.ts';
import type { DestinationPolicy } from '../destinations.ts';
import type { GateObserver } from '../observer.ts';

/** Mints release tokens for approved actions and checks them when presented (JWS EdDSA, see @countersign/evidence). */
export interface ReleaseIssuer {
  issue(action: ActionRecord): Promise<{ token: string; expiresAt: Date }>;
  /**
   * A presented token's claims once its signature, issuer, expiry and audience check out (and
   * its intent hash, when given). Anything else throws DomainError `invalid_release_token`
   * with the reason (`expired`, `wrong_audience`, `intent_mismatch`, …) in `extra.reason`.
   */
  verify(token: string, expect: { audience: string; intentHash?: string }): Promise<ReleaseClaims>;
}

export interface ReleaseClaims {
  actionId: string;
  audience: string;
  /** The token's jti. */
  tokenId: string;
  intentHash: string;
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
  /** Hears of decisions, votes and redemptions (metrics); none by default. */
  observer?: GateObserver;
}
