import { AsyncLocalStorage } from 'node:async_hooks';
import type { Authorization } from './types.ts';

// The approval a guarded function runs under, without changing that function's signature:
// code inside `guard(describe, fn)` reads it to pass the release token downstream.
const released = new AsyncLocalStorage<Authorization>();

export function runReleased<R>(authorization: Authorization, fn: () => R): R {
  return released.run(authorization, fn);
}

/** Inside a function wrapped by `guard()`: its approved action and release token. Otherwise undefined. */
export function currentRelease(): Authorization | undefined {
  return released.getStore();
}
