import type { GateEvent } from '@countersign/contracts';
import type { GateStore, GateTx, NewActionWrite } from '@countersign/core';
import { stampedTrace } from './action-trace.ts';

// Outbox events carry the trace they belong to, so the dispatcher and the jobs continue it. The
// engine writes events without knowing of traces; this store stamps them on their way to
// Postgres. A new action's events are stamped when its write is handed over, in the submitter's
// own context: the group commit that writes them runs in another submission's.

function stamp(event: GateEvent): GateEvent {
  const trace = stampedTrace();
  return trace ? { ...event, trace } : event;
}

/** The store, stamping every outbox event with its trace context (a no-op while tracing is off). */
export function traceEvents(store: GateStore): GateStore {
  // Proxies, so every other member (and any the ports gain later) reaches the store unchanged.
  // A member assigned through the proxy (a test wrapping `transaction` around the one it read)
  // is kept here and answered as is: written through to the store, the wrapper would call
  // itself through this proxy forever.
  const assigned = new Map<string | symbol, unknown>();
  return new Proxy(store, {
    set(_target, prop, value) {
      assigned.set(prop, value);
      return true;
    },
    get(target, prop) {
      if (assigned.has(prop)) return assigned.get(prop);
      const value: unknown = Reflect.get(target, prop, target);
      if (prop === 'insertNewAction') {
        return (write: NewActionWrite) => target.insertNewAction({ ...write, events: write.events.map(stamp) });
      }
      if (prop === 'transaction') {
        return <T>(fn: (tx: GateTx) => Promise<T>) => target.transaction((tx) => fn(stampingTx(tx)));
      }
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}

function stampingTx(tx: GateTx): GateTx {
  return new Proxy(tx, {
    get(target, prop) {
      const value: unknown = Reflect.get(target, prop, target);
      if (prop === 'emit') return (event: GateEvent) => target.emit(stamp(event));
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}
