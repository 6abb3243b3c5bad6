import type { ConfigSnapshot } from '../config-view.ts';
import type { GateStore } from '../ports.ts';

/**
 * Seals a `config.changed` artifact for each policy or directory digest not seen before, so
 * the evidence shows which rules and which directory every later decision was made under.
 * Idempotent across processes: the (file, digest) primary key decides who records it.
 */
export async function recordConfigChanges(store: GateStore, snapshot: ConfigSnapshot): Promise<number> {
  let sealed = 0;
  for (const [file, digest] of [['policy', snapshot.policy.digest], ['directory', snapshot.directory.digest]] as const) {
    // Counted once committed: the store may run the function more than once.
    const recorded = await store.transaction(async (tx) => {
      const { isNew, previousDigest } = await tx.recordConfigVersion(file, digest);
      if (!isNew) return false;
      await tx.appendArtifact({ kind: 'config.changed', file, digest, previousDigest });
      return true;
    });
    if (recorded) sealed++;
  }
  return sealed;
}
