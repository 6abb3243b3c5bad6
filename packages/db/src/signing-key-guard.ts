import { DomainError } from '@countersign/contracts';
import { ROTATION_KIND, type Keyring } from '@countersign/evidence';
import type { TxClient } from './gate-tx.ts';

/**
 * Called under the chain-head lock before sealing after the chain's last artifact (returned,
 * with its signer and time, asked again when the caller's statement could not see it).
 * Refuses (fail closed, until restarted) when the active key may not sign: its rotation to a
 * newer key is sealed — a process still running the old key after a rotation elsewhere — or
 * the keyring itself replaces the last signer but the rotation is not sealed yet. Asks the
 * chain only when the last signer is another key, which a single-key deployment never sees.
 */
export async function assertActiveKeyMaySign(tx: TxClient, keyring: Keyring, head: HeadArtifact): Promise<HeadArtifact> {
  const active = keyring.active.keyId;
  const signed = await headArtifact(tx, head);
  const headKeyId = signed.keyId;
  if (headKeyId === null || headKeyId === active || keyring.retirement(headKeyId)) return signed;
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
  return signed;
}

/** The chain's last artifact as the head lock's statement read it: its seq, signer and time. */
export interface HeadArtifact {
  seq: number;
  /** NULL past seq 0: the statement did not see it (see headArtifact). */
  keyId: string | null;
  at: Date | null;
}

/**
 * Who signed the chain's last artifact, and when. The caller read it from the head row in the
 * statement that took the head lock (gate-tx.ts, HEAD_COLUMNS); a head moved by a writer that
 * did not record them (an earlier version during an upgrade) shows no signer, and is asked
 * again here, in a statement of its own (a fresh snapshot under READ COMMITTED). A head past 0
 * whose artifact cannot be found is a broken chain: refused, never taken as "nobody signed yet".
 */
export async function headArtifact(tx: TxClient, head: HeadArtifact): Promise<HeadArtifact> {
  if (head.keyId !== null || head.seq === 0) return head;
  const [row] = await tx.query<{ keyId: string; at: Date }>`SELECT "keyId", at FROM "Artifact" WHERE seq = ${head.seq}`;
  if (!row) throw new Error(`artifact chain head ${head.seq} has no artifact`);
  return { seq: head.seq, keyId: row.keyId, at: row.at };
}

/**
 * The time for artifacts that follow `head`: the clock, unless it reads earlier than the
 * artifact they follow (a clock stepped back, or another process's clock ahead of this one's),
 * so `at` never goes backwards along the chain.
 */
export function atOrAfter(head: HeadArtifact, now: Date): Date {
  return head.at !== null && head.at.getTime() > now.getTime() ? head.at : now;
}
