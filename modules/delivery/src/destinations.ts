import { destinationAllowlist, type DestinationPolicy } from '@countersign/core';
import type { DeliverySettings } from './settings.ts';

/** Where webhooks may go (COUNTERSIGN_CALLBACK_ALLOWLIST) and where executors may (that, plus COUNTERSIGN_EXECUTOR_ALLOWLIST). */
export interface Destinations {
  webhook: DestinationPolicy;
  executor: DestinationPolicy;
}

export function destinationsFrom(settings: DeliverySettings): Destinations {
  return {
    webhook: destinationAllowlist(settings.COUNTERSIGN_CALLBACK_ALLOWLIST),
    executor: destinationAllowlist([...settings.COUNTERSIGN_CALLBACK_ALLOWLIST, ...settings.COUNTERSIGN_EXECUTOR_ALLOWLIST]),
  };
}
