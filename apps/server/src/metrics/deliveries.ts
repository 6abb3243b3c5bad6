import type { Counter, Registry } from 'prom-client';
import type { DeliveryRow, DeliveryStore } from '@countersign/core';
import type { Repositories } from '@countersign/db';
import { counter } from './registered.ts';

// Webhook and held-execution attempts by result, counted where each attempt's result is
// recorded: the Delivery rows' port the delivery module is handed (ctx.db.deliveries). ok:
// delivered; retry: the attempt failed and the queue tries again; failed: given up (refused by
// the destination, not allowed, attempts exhausted). Jobs that had nothing to send count nothing.

export type DeliveryCounter = Counter<'kind' | 'result'>;

export function deliveryCounter(registry: Registry): DeliveryCounter {
  return counter(registry, 'countersign_deliveries_total', 'Outbound delivery attempts by kind (webhook, execution) and result: ok, retry (tried again later) or failed (given up).', [
    'kind',
    'result',
  ]);
}

/** An override's second webhook is still a webhook. */
function kindOf(row: Pick<DeliveryRow, 'kind'>): string {
  return row.kind.startsWith('webhook') ? 'webhook' : row.kind;
}

const RESULT_BY_STATE = { delivered: 'ok', pending: 'retry', failed: 'failed' } as const;

function countedDeliveryStore(store: DeliveryStore, deliveries: DeliveryCounter): DeliveryStore {
  return {
    claim: (input) => store.claim(input),
    find: (actionId, kind) => store.find(actionId, kind),
    async failWithoutSending(input) {
      const row = await store.failWithoutSending(input);
      deliveries.inc({ kind: kindOf(input), result: 'failed' });
      return row;
    },
    async finish(row, result) {
      const finished = await store.finish(row, result);
      deliveries.inc({ kind: kindOf(row), result: RESULT_BY_STATE[result.state] });
      return finished;
    },
  };
}

/** `db` as modules see it, whose delivery stores count what they record. Everything else is `db` itself. */
export function countDeliveries(db: Repositories, deliveries: DeliveryCounter): Repositories {
  return new Proxy(db, {
    get(target, prop) {
      if (prop === 'deliveries') return (leaseMs: number) => countedDeliveryStore(target.deliveries(leaseMs), deliveries);
      const value: unknown = Reflect.get(target, prop, target);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}
