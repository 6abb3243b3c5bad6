import type { Actor, Intent } from '@countersign/contracts';
import type { ConfigSnapshot, ConfigView } from '@countersign/core';
import type { Directory } from '@countersign/directory';
import { evaluate, type CompiledPolicy } from '@countersign/policy';

/** Adapts the loaded files to the engine's view. One adapter object per loaded snapshot. */
export function configView(current: () => { policy: CompiledPolicy; directory: Directory }): ConfigView {
  const cache = new WeakMap<object, ConfigSnapshot>();
  return {
    current() {
      const files = current();
      let snap = cache.get(files);
      if (!snap) {
        const policy = files.policy;
        snap = {
          policy: {
            digest: policy.digest,
            evaluate: (input: { intent: Intent; actor: Actor; now: Date }) => evaluate(policy, input),
          },
          directory: files.directory,
        };
        cache.set(files, snap);
      }
      return snap;
    },
  };
}
