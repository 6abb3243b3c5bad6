import type { ArtifactEvent, ArtifactKind, GateEvent, SealedArtifact } from '@countersign/contracts';
import type { ActionRecord, ApiKeyRecord, FinalizePatch, GateTx, OverridePatch, RedemptionRecord, VoteRecord } from '@countersign/core';
import { sealArtifact, type Keyring } from '@countersign/evidence';
import { assertActiveKeyMaySign } from './signing-key-guard.ts';
import type { Action, Prisma, PrismaClient } from './generated/prisma/client.ts';
import { toActionRecord, toRedemptionRecord, toVoteRecord } from './rows.ts';

export type TxClient = Omit<PrismaClient, '$connect' | '$disconnect' | '$on' | '$transaction' | '$extends'>;
export const DECISION_CHANNEL = 'countersign_decisions';
/** Wakes the outbox dispatcher (any process running the worker role). */
export const OUTBOX_CHANNEL = 'countersign_outbox';
/** Tells every process to drop its cached API keys (a key was revoked). */
export const KEYS_CHANNEL = 'countersign_keys';

export class PrismaGateTx implements GateTx {
  /** Set when this transaction revoked a key: the store drops its key cache once it ends. */
  revokedKeys = false;

  constructor(
    private readonly tx: TxClient,
    private readonly keyring: Keyring,
    private readonly now: () => Date,
  ) {}

  async insertAction(a: ActionRecord): Promise<void> {
    await this.tx.action.create({
      data: {
        ...a,
        intent: a.intent as unknown as Prisma.InputJsonValue,
        requirement: (a.requirement ?? undefined) as Prisma.InputJsonValue | undefined,
      },
    });
  }

  async lockAction(id: string): Promise<ActionRecord | null> {
    const rows = await this.tx.$queryRaw<Action[]>`SELECT * FROM "Action" WHERE id = ${id} FOR UPDATE`;
    return rows[0] ? toActionRecord(rows[0]) : null;
  }

  async votesFor(actionId: string): Promise<VoteRecord[]> {
    const rows = await this.tx.vote.findMany({ where: { actionId }, orderBy: { createdAt: 'asc' } });
    return rows.map(toVoteRecord);
  }

  async insertVote(v: VoteRecord): Promise<void> {
    await this.tx.vote.create({ data: v });
  }

  async finalize(id: string, patch: FinalizePatch): Promise<void> {
    const { count } = await this.tx.action.updateMany({
      where: { id, status: 'pending' },
      data: { status: patch.status, decidedAt: patch.at, decidedBy: patch.decidedBy, decisionReason: patch.reason },
    });
    // The row lock makes this unreachable; if it ever happens we abort rather than decide twice.
    if (count !== 1) throw new Error(`action ${id} was not pending when finalizing`);
  }

  async recordOverride(id: string, patch: OverridePatch): Promise<void> {
    const overridden = { overriddenBy: patch.personId, overrideReason: patch.reason };
    const { count } = await this.tx.action.updateMany({
      where: { id, status: 'refused', outcome: 'refuse', overriddenBy: null },
      data: patch.escalateUntil
        ? { ...overridden, status: 'pending', expiresAt: patch.escalateUntil, decidedAt: null, decidedBy: null, decisionReason: null }
        : { ...overridden, status: 'approved', decidedAt: patch.at },
    });
    if (count !== 1) throw new Error(`action ${id} was not an un-overridden refusal`);
  }

  async insertApiKey(key: ApiKeyRecord): Promise<void> {
    await this.tx.apiKey.create({ data: key });
  }

  async revokeApiKey(id: string, at: Date): Promise<boolean> {
    const { count } = await this.tx.apiKey.updateMany({ where: { id, revokedAt: null }, data: { revokedAt: at } });
    if (count !== 1) return false;
    this.revokedKeys = true;
    // Transactional: other processes drop their cached keys as soon as the revocation commits.
    await this.tx.$queryRaw`SELECT 1 AS notified FROM pg_notify(${KEYS_CHANNEL}, ${id})`;
    return true;
  }

  async appendArtifact(event: ArtifactEvent): Promise<SealedArtifact> {
    // Taking the head row lock serialises appends across every process: the sequence stays
    // gapless and each artifact links to the one committed before it. `at` is read under the
    // lock so it never goes backwards along the chain.
    // headKeyId: who signed the artifact this one follows (see signing-key-guard.ts).
    const head = await this.tx.$queryRaw<{ seq: bigint; hash: string; headKeyId: string | null }[]>`
      UPDATE "ArtifactHead" SET seq = seq + 1 WHERE id = 1
      RETURNING seq, hash, (SELECT a."keyId" FROM "Artifact" a WHERE a.seq = "ArtifactHead".seq - 1) AS "headKeyId"`;
    const h = head[0];
    if (!h) throw new Error('artifact chain head missing: migrations not applied');
    await assertActiveKeyMaySign(this.tx, this.keyring, h.headKeyId);
    const sealed = sealArtifact({ seq: Number(h.seq), prevHash: h.hash, at: this.now(), event, key: this.keyring.active });
    await this.tx.$executeRaw`
      WITH ins AS (
        INSERT INTO "Artifact" (seq, kind, "actionId", at, canonical, hash, "prevHash", signature, "keyId")
        VALUES (${h.seq}, ${sealed.kind}, ${sealed.actionId}, ${new Date(sealed.at)}, ${sealed.canonical},
                ${sealed.hash}, ${sealed.prevHash}, ${sealed.signature}, ${sealed.keyId})
      )
      UPDATE "ArtifactHead" SET hash = ${sealed.hash} WHERE id = 1`;
    return sealed;
  }

  async recordConfigVersion(file: 'policy' | 'directory', digest: string): Promise<{ isNew: boolean; previousDigest: string | null }> {
    // Serialise config recording across processes starting at once.
    await this.tx.$queryRaw`SELECT 1 AS locked FROM pg_advisory_xact_lock(hashtext(${'config:' + file}))`;
    const previous = await this.tx.configVersion.findFirst({ where: { file }, orderBy: { createdAt: 'desc' } });
    if (previous?.digest === digest) return { isNew: false, previousDigest: previous.digest };
    const existing = await this.tx.configVersion.findUnique({ where: { file_digest: { file, digest } } });
    if (existing) {
      // Reverting to an earlier file is still a change worth sealing: refresh its timestamp.
      await this.tx.configVersion.update({ where: { file_digest: { file, digest } }, data: { createdAt: this.now() } });
    } else {
      await this.tx.configVersion.create({ data: { file, digest, createdAt: this.now() } });
    }
    return { isNew: true, previousDigest: previous?.digest ?? null };
  }

  async publishDecision(actionId: string): Promise<void> {
    // NOTIFY is transactional: listeners hear it only if and when the decision commits.
    await this.tx.$queryRaw`SELECT 1 AS notified FROM pg_notify(${DECISION_CHANNEL}, ${actionId})`;
  }

  async emit(event: GateEvent): Promise<void> {
    await this.tx.outboxEvent.create({ data: { type: event.type, actionId: event.actionId, payload: event as unknown as Prisma.InputJsonValue } });
    await this.tx.$queryRaw`SELECT 1 AS notified FROM pg_notify(${OUTBOX_CHANNEL}, ${event.actionId})`;
  }

  async hasArtifact(actionId: string, kind: ArtifactKind): Promise<boolean> {
    const row = await this.tx.artifact.findFirst({ where: { actionId, kind }, select: { seq: true } });
    return row !== null;
  }

  async findRedemption(q: { actionId: string; audience: string; tokenId: string }): Promise<RedemptionRecord | null> {
    const row = await this.tx.releaseRedemption.findFirst({ where: { OR: [{ actionId: q.actionId, audience: q.audience }, { jti: q.tokenId }] } });
    return row ? toRedemptionRecord(row) : null;
  }

  async insertRedemption(r: RedemptionRecord): Promise<void> {
    await this.tx.releaseRedemption.create({
      data: { jti: r.tokenId, actionId: r.actionId, audience: r.audience, redeemedBy: r.redeemedBy, redeemedAt: r.redeemedAt },
    });
  }

  async isKeyActive(keyId: string): Promise<boolean> {
    const rows = await this.tx.$queryRaw<{ active: boolean }[]>`
      SELECT ("revokedAt" IS NULL) AS active FROM "ApiKey" WHERE id = ${keyId}`;
    return rows[0]?.active === true;
  }
}
