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
export async function assertActiveKeyMaySign(tx: TxClient, keyring: Keyring, headKeyId: string | null): Promise<void> {
  const active = keyring.active.keyId;
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
