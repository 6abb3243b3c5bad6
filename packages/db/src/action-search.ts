import type { SealedArtifact } from '@countersign/contracts';
import type { ActionFacts, ActionFilter, ActionQuery, ActionRecord, ActionSearchStore, VoteRecord } from '@countersign/core';
import type { Prisma, PrismaClient } from './generated/prisma/client.ts';
import { toActionRecord, toSealedArtifact, toVoteRecord } from './rows.ts';

// The read side on Postgres: the list's filters as one Prisma `where`, in a stable order
// (createdAt desc, id desc) with keyset pagination. Who may read what is narrowed here for
// speed and checked again by the engine (core/gate/access.ts) on every row.

type Where = Prisma.ActionWhereInput;

/** Actions whose requirement names one of `roles` (JSON containment: groups @> [{role}]). */
function requirementNames(roles: string[]): Where[] {
  return roles.map((role) => ({ requirement: { path: ['groups'], array_contains: [{ role }] } }));
}

function filterWhere(f: ActionFilter): Where[] {
  const and: Where[] = [];
  if (f.status?.length) and.push({ status: { in: f.status } });
  if (f.actionType) and.push({ actionType: f.actionType });
  // Prisma passes string_starts_with to LIKE: `%` and `_` in a prefix are wildcards unless
  // escaped (and `\\` is LIKE's escape character), so "env_prod" must not match "env/prod".
  if (f.resourcePrefix) and.push({ intent: { path: ['action', 'resource'], string_starts_with: escapeLike(f.resourcePrefix) } });
  if (f.requester) and.push({ actorId: f.requester });
  if (f.onBehalfOf) and.push({ onBehalfOf: f.onBehalfOf });
  if (f.decidedBy) and.push({ OR: [{ decidedBy: f.decidedBy }, { overriddenBy: f.decidedBy }] });
  if (f.voter) and.push({ votes: { some: { personId: f.voter } } });
  if (f.ruleId) and.push({ ruleIds: { has: f.ruleId } });
  if (f.riskClass) and.push({ intent: { path: ['risk', 'class'], equals: f.riskClass } });
  if (f.environment) and.push({ intent: { path: ['context', 'environment'], equals: f.environment } });
  if (f.submittedFrom || f.submittedTo) and.push({ createdAt: { ...(f.submittedFrom ? { gte: f.submittedFrom } : {}), ...(f.submittedTo ? { lt: f.submittedTo } : {}) } });
  if (f.decidedFrom || f.decidedTo) and.push({ decidedAt: { ...(f.decidedFrom ? { gte: f.decidedFrom } : {}), ...(f.decidedTo ? { lt: f.decidedTo } : {}) } });
  return and;
}

function queryWhere(q: ActionQuery): Where {
  const and = filterWhere(q.filter);
  if (!q.visibleTo.all) {
    const { principalId, roles } = q.visibleTo;
    // Mirrors core's mayRead: requester, on-behalf-of, owner, or a role that could decide.
    and.push({
      OR: [
        { actorId: principalId },
        { onBehalfOf: principalId },
        { ownerId: principalId },
        ...(roles.length ? [{ overrideRoles: { hasSome: roles } }, ...requirementNames(roles)] : []),
      ],
    });
  }
  if (q.awaiting) {
    const { personId, roles, now } = q.awaiting;
    if (roles.length === 0) and.push({ id: { in: [] } });
    and.push({ status: 'pending' }, { expiresAt: { gt: now } }, { votes: { none: { personId } } }, { OR: requirementNames(roles) });
  }
  if (q.after) {
    const { createdAt, id } = q.after;
    and.push({ OR: [{ createdAt: { lt: createdAt } }, { createdAt, id: { lt: id } }] });
  }
  return { AND: and };
}

export class PrismaActionSearch implements ActionSearchStore {
  constructor(private readonly prisma: PrismaClient) {}

  async searchActions(query: ActionQuery): Promise<ActionRecord[]> {
    const rows = await this.prisma.action.findMany({
      where: queryWhere(query),
      orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
      take: query.limit,
    });
    return rows.map(toActionRecord);
  }

  async votesForMany(actionIds: string[]): Promise<Map<string, VoteRecord[]>> {
    const out = new Map<string, VoteRecord[]>();
    if (actionIds.length === 0) return out;
    const rows = await this.prisma.vote.findMany({ where: { actionId: { in: actionIds } }, orderBy: [{ createdAt: 'asc' }, { id: 'asc' }] });
    for (const row of rows) out.set(row.actionId, [...(out.get(row.actionId) ?? []), toVoteRecord(row)]);
    return out;
  }

  async artifactsOf(actionId: string): Promise<SealedArtifact[]> {
    const rows = await this.prisma.artifact.findMany({ where: { actionId }, orderBy: { seq: 'asc' } });
    return rows.map(toSealedArtifact);
  }

  async artifactsAt(seqs: number[]): Promise<SealedArtifact[]> {
    if (seqs.length === 0) return [];
    const rows = await this.prisma.artifact.findMany({ where: { seq: { in: seqs.map((s) => BigInt(s)) } }, orderBy: { seq: 'asc' } });
    return rows.map(toSealedArtifact);
  }

  async factsOf(actionId: string): Promise<ActionFacts> {
    const [cards, deliveries, redemptions] = await Promise.all([
      this.prisma.channelCard.findMany({ where: { actionId }, orderBy: { createdAt: 'asc' } }),
      this.prisma.delivery.findMany({ where: { actionId }, orderBy: { createdAt: 'asc' } }),
      this.prisma.releaseRedemption.findMany({ where: { actionId }, orderBy: { redeemedAt: 'asc' } }),
    ]);
    return {
      cards: cards.map((c) => ({ channel: c.channel, target: c.target, state: c.state, tier: c.tier, error: c.error, createdAt: c.createdAt, updatedAt: c.updatedAt })),
      deliveries: deliveries.map((d) => ({
        kind: d.kind,
        state: d.state,
        attempts: d.attempts,
        responseStatus: d.responseStatus,
        lastError: d.lastError,
        createdAt: d.createdAt,
        updatedAt: d.updatedAt,
        deliveredAt: d.deliveredAt,
      })),
      redemptions: redemptions.map((r) => ({ jti: r.jti, audience: r.audience, redeemedAt: r.redeemedAt, redeemedBy: r.redeemedBy })),
    };
  }
}

/** A LIKE pattern that matches `text` literally. */
function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}
