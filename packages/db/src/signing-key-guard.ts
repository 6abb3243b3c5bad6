import { DomainError } from '@countersign/contracts';
import { ROTATION_KIND, type Keyring } from '@countersign/evidence';
import type { TxClient } from './gate-tx.ts';

/**
 * Called under the chain-head lock before sealing after an artifact signed by `headKeyId`.
 * Refuses (fail closed, until restarted) when the active key may not sign: its rotation to a
 * newer key is sealed — a process still running the old key after a rotation elsewhere — or
 * the keyring itself replaces the last signer but the rotation is not sealed yet. Asks the
 * chain only when the last signer is another key, which a single-key deployment never sees.
 */
export async function assertActiveKeyMaySign(tx: TxClient, keyring: Keyring, head: { seq: number; keyId: string | null }): Promise<void> {
  const active = keyring.active.keyId;
  const headKeyId = await headSigner(tx, head);
  if (headKeyId === null || headKeyId === active || keyring.retirement(headKeyId)) return;
  if (keyring.get(headKeyId)) {
    throw new DomainError(
      'unavailable',
      `the signing key changed from ${headKeyId} to ${active} but the rotation is not sealed yet: restart the service (it seals the rotation at start) before signing with the new key`,
    );
  }
  const retired = await tx.query<{ successor: string }>`
    SELECT canonical::jsonb #>> '{event,newKeyId}' AS successor FROM "Artifact"
    WHERE "actionId" IS NULL AND kind = ${ROTATION_KIND} AND canonical::jsonb #>> '{event,previousKeyId}' = ${active}
    LIMIT 1`;
  const successor = retired[0]?.successor;
  if (successor !== undefined) {
    throw new DomainError('unavailable', `this process's signing key ${active} was retired (rotated to ${successor}); a retired key never signs: restart it with the current keys`);
  }
}

/**
 * Who signed the chain's last artifact. The caller read it with the head row in the statement
 * that took the head lock; a statement that waited for that lock still reads the artifact
 * table as of before the wait, so a head moved meanwhile shows no signer. Asked again then, in
 * a statement of its own (a fresh snapshot under READ COMMITTED). A head past 0 whose artifact
 * cannot be found is a broken chain: refused, never taken as "nobody signed yet".
 */
async function headSigner(tx: TxClient, head: { seq: number; keyId: string | null }): Promise<string | null> {
  if (head.keyId !== null || head.seq === 0) return head.keyId;
  const [row] = await tx.query<{ keyId: string }>`SELECT "keyId" FROM "Artifact" WHERE seq = ${head.seq}`;
  if (!row) throw new Error(`artifact chain head ${head.seq} has no artifact`);
  return row.keyId;
}
