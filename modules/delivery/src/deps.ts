import type { GateStore, ReleaseIssuer } from '@countersign/core';
import type { DeliveryRows } from './delivery-rows.ts';
import type { Destinations } from './destinations.ts';
import type { Send } from './outbound.ts';

/** What webhook delivery and held execution share: one typed resources object. */
export interface DeliveryDeps {
  store: GateStore;
  rows: DeliveryRows;
  destinations: Destinations;
  /** Master secret the per-key webhook secrets derive from. */
  webhookMaster: Buffer;
  /** Mints the release token sent along with an executor request. */
  release: ReleaseIssuer;
  /** `{{secret.NAME}}` in executor headers: COUNTERSIGN_EXECUTOR_SECRET_NAME. */
  executorSecret(name: string): string | undefined;
  send: Send;
  timeoutMs: number;
}
