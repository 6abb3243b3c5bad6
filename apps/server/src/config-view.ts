import type { Actor, Intent } from '@countersign/contracts';
import type { ConfigSnapshot, ConfigView } from '@countersign/core';
import type { Directory } from '@countersign/directory';
import { evaluate, type CompiledPolicy } from '@countersign/policy';

type Files = { policy: CompiledPolicy; directory: Directory };

/** Adapts the loaded files to the engine's view. One adapter object per loaded snapshot. */
export function configView(current: () => Files): ConfigView & { adapt(files: Files): ConfigSnapshot } {
  const cache = new WeakMap<object, ConfigSnapshot>();
  const adapt = (files: Files): ConfigSnapshot => {
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
  };
  return { adapt, current: () => adapt(current()) };
}
