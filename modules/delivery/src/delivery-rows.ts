// The Delivery table is packages/db's (PgDeliveryStore); this module sees it through the
// engine's DeliveryStore port, under the names its files use.
export type {
  DeliveryClaim as Claim,
  DeliveryKind,
  DeliveryRow,
  DeliveryState,
  DeliveryStore as DeliveryRows,
} from '@countersign/core';
