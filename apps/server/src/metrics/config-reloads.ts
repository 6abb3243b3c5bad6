import type { Counter, Registry } from 'prom-client';
import { counter } from './registered.ts';

export type ConfigReloadCounter = Counter<'result'>;

/** ok: a changed policy or directory is sealed and in force; failed: rejected, or its seal failed (the previous one stays). */
export function configReloadCounter(registry: Registry): ConfigReloadCounter {
  return counter(registry, 'countersign_config_reloads_total', 'Policy and directory reloads by result: ok (sealed and in force) or failed (file rejected, or the change could not be sealed).', [
    'result',
  ]);
}
