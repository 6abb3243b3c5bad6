import type { SealedArtifact } from '@countersign/contracts';
import { reconcileSigningKey, ROTATION_KIND, type Keyring } from '@countersign/evidence';
import { PgGateTx } from './gate-tx.ts';
import { atOrAfter, headArtifact } from './signing-key-guard.ts';
import { toSealedArtifact, type ArtifactRow } from './rows.ts';
import type { Sql } from './sql.ts';

/**
 * At start, before the process signs anything: under the chain-head lock, teach the keyring the
 * sealed rotations and, if the chain was last signed by another key, seal the rotation with the
 * active key as the very next artifact. Processes starting together serialise on the lock, so
 * one of them seals it and the others find it sealed. Returns the rotation sealed now, if any.
 */
export async function sealSigningKey(sql: Sql, keyring: Keyring, now: () => Date): Promise<SealedArtifact | null> {
  return sql.transaction(
    async (tx) => {
      const heads = await tx.query<{ seq: string; keyId: string | null; at: Date | null }>`
        SELECT h.seq, a."keyId", a.at FROM "ArtifactHead" h LEFT JOIN "Artifact" a ON a.seq = h.seq
        WHERE h.id = 1 FOR UPDATE OF h`;
      const h = heads[0];
      if (!h) throw new Error('artifact chain head missing: migrations not applied');
      // A statement that waited for the head lock (another process appending) read the artifact
      // table as of before the wait: its head shows no signer, and is asked again (found by
      // review: the rotation was then never sealed, and this process refused to sign).
      const last = await headArtifact(tx, { seq: Number(h.seq), keyId: h.keyId, at: h.at });
      // Key and config artifacts carry no action id, so the actionId index keeps this small.
      const rotations = await tx.query<ArtifactRow>`
        SELECT * FROM "Artifact" WHERE "actionId" IS NULL AND kind = ${ROTATION_KIND} ORDER BY seq`;
      // The retirement time the keyring records is the rotation artifact's `at`: never earlier
      // than the artifact it follows (whose signer's clock may be ahead of this one's).
      const at = atOrAfter(last, now());
      const head = last.keyId === null ? null : { seq: last.seq, keyId: last.keyId };
      const rotation = reconcileSigningKey(keyring, { head, rotations: rotations.map(toSealedArtifact) }, at);
      if (!rotation) return null;
      // Sealed at the same clock reading the keyring recorded as the retirement time.
      const gateTx = new PgGateTx(tx, keyring, () => at);
      const sealed = await gateTx.appendArtifact(rotation);
      await gateTx.flush();
      return sealed;
    },
    // Once: reconcileSigningKey retires keys in this process's keyring, which a second run
    // would take for a rotation already sealed. A stale statement fails the start instead.
    { readCommitted: true, once: true },
  );
}
