import { expect } from 'vitest';
import { IntentSchema, randomId, type GateEvent, type Intent } from '@countersign/contracts';
import type { ActionRecord, NewActionWrite } from '@countersign/core';
import { intentHash, sha256Hex, verifyExport, type Keyring } from '@countersign/evidence';
import { auditExportLines } from '../../src/audit-export.ts';
import type { PrismaClient } from '../../src/client.ts';

// New actions as the gate hands them to the store, and the check that the chain they went into
// is whole: shared by the group-commit tests (new-action-writer, seal-ahead).

/** A new action (auto-approved read by default; `escalate` for a pending one with its outbox event). */
export function newWrite(opts: { apiKeyId?: string; idempotencyKey?: string; intent?: unknown; summary?: string; escalate?: boolean; badEvent?: boolean } = {}): NewActionWrite {
  const intent: Intent = IntentSchema.parse(
    opts.intent ?? { action: { type: 'db.query', resource: 'orders-replica', ...(opts.summary ? { summary: opts.summary } : {}) }, risk: { class: 'read' } },
  );
  const at = new Date();
  const id = randomId('act');
  const hash = intentHash(intent);
  const escalate = opts.escalate ?? false;
  const requirement = escalate ? { groups: [{ role: 'sre-lead', count: 1 }], expiresInSeconds: 600, channels: [] } : null;
  const action: ActionRecord = {
    id,
    status: escalate ? 'pending' : 'approved',
    outcome: escalate ? 'escalate' : 'approve',
    actorId: 'deploy-bot',
    actorKind: 'agent',
    ownerId: 'alice',
    onBehalfOf: null,
    apiKeyId: opts.apiKeyId ?? 'key_test',
    intent,
    intentHash: hash,
    actionType: intent.action.type,
    policyDigest: sha256Hex('policy'),
    ruleIds: ['read-only'],
    reasons: ['reads are fine'],
    requirement: requirement as ActionRecord['requirement'],
    overrideRoles: [],
    expiresAt: escalate ? new Date(at.getTime() + 600_000) : null,
    createdAt: at,
    decidedAt: escalate ? null : at,
    decidedBy: escalate ? null : 'policy',
    decisionReason: escalate ? null : 'reads are fine',
    overriddenBy: null,
    overrideReason: null,
    idempotencyKey: opts.idempotencyKey ?? null,
    requestHash: sha256Hex(JSON.stringify(intent)),
  };
  const actor = { kind: 'agent' as const, id: 'deploy-bot' };
  const common = { actionId: id, intentHash: opts.badEvent ? 'not-a-hash' : hash, actionType: action.actionType, actor, onBehalfOf: null };
  const events: GateEvent[] = escalate ? [{ type: 'action.escalated', actionId: id }] : [];
  return {
    action,
    events,
    artifact: escalate
      ? { kind: 'action.escalated', ...common, owner: 'alice', policyDigest: action.policyDigest, ruleIds: action.ruleIds, reasons: action.reasons, requirement, expiresAt: action.expiresAt!.toISOString() }
      : { kind: 'action.decided', ...common, status: 'approved', decidedBy: 'policy', policyDigest: action.policyDigest, ruleIds: action.ruleIds, reasons: action.reasons, approvers: [] },
  };
}

/**
 * Exports the whole chain and verifies it offline; also checks seq is 1..n, `at` never goes
 * back, the head is the last seq (and names its signer and time), and every action has its
 * artifact. The chain's length.
 */
export async function expectChainIntact(prisma: PrismaClient, keys: Keyring): Promise<number> {
  const lines: string[] = [];
  for await (const line of auditExportLines(prisma, keys, { format: 'jsonl', range: {} })) lines.push(line.trimEnd());
  const report = await verifyExport(lines, keys.publicKeys());
  expect(report.problems).toEqual([]);
  expect(report.ok).toBe(true);
  const rows = await prisma.artifact.findMany({ orderBy: { seq: 'asc' }, select: { seq: true, at: true, keyId: true } });
  rows.forEach((r, i) => {
    expect(Number(r.seq)).toBe(i + 1);
    if (i > 0) expect(r.at.getTime()).toBeGreaterThanOrEqual(rows[i - 1]!.at.getTime());
  });
  const head = await prisma.artifactHead.findUniqueOrThrow({ where: { id: 1 } });
  expect(Number(head.seq)).toBe(rows.length);
  // The head row names its own artifact's signer and time (read under its lock, gate-tx.ts).
  const last = rows.at(-1);
  if (last) expect({ lastSeq: head.lastSeq, lastKeyId: head.lastKeyId, lastAt: head.lastAt?.getTime() }).toEqual({ lastSeq: last.seq, lastKeyId: last.keyId, lastAt: last.at.getTime() });
  const orphans = await prisma.$queryRawUnsafe<{ n: bigint }[]>(
    `SELECT count(*) AS n FROM "Action" a WHERE NOT EXISTS (SELECT 1 FROM "Artifact" r WHERE r."actionId" = a.id)`,
  );
  expect(Number(orphans[0]!.n)).toBe(0);
  return rows.length;
}
