import { DomainError, inFilterRange, type SealedArtifact } from '@countersign/contracts';
import type { ActionDetail, ActionFacts, ActionFilter, ActionQuery, ActionRecord, ActionSearchStore, VoteRecord } from '@countersign/core';
import { sqlOf } from './client.ts';
import type { Prisma, PrismaClient } from './generated/prisma/client.ts';
import { toActionRecord, toSealedArtifact, toVoteRecord, type ActionRow } from './rows.ts';

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

/** The API's name for each filter key (the query parameter the caller sent). */
const FIELD_OF: Partial<Record<keyof ActionFilter, string>> = { resourcePrefix: 'resource' };

/**
 * The last line before Postgres: a value it cannot take (NUL in text: 22021; a date outside
 * timestamptz's range, such as year 0000: 22008) is the caller's bad input, never a 500. The
 * contracts' filter schema already refuses these; this covers every other way in (a forged
 * cursor carries its own date, and core builds filters for other callers too).
 */
function assertStorable(q: ActionQuery): void {
  const refuse = (field: string, message: string): never => {
    throw new DomainError('invalid_request', 'The request query is not valid.', { issues: [{ field, message }] });
  };
  for (const [key, value] of Object.entries(q.filter) as [keyof ActionFilter, unknown][]) {
    const field = FIELD_OF[key] ?? key;
    if (value instanceof Date && !inFilterRange(value)) refuse(field, 'a date between 1970-01-01 and 9999-12-31 (UTC)');
    if (typeof value === 'string' && value.includes('\u0000')) refuse(field, 'text without a NUL character');
  }
  if (q.after && !inFilterRange(q.after.createdAt)) refuse('cursor', 'not a cursor from a previous page');
}

function queryWhere(q: ActionQuery): Where {
  assertStorable(q);
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

  detailOf(actionId: string, opts?: { apiKeyId?: string }): Promise<ActionDetail | null> {
    return readActionDetail(this.prisma, actionId, opts);
  }
}

/** Timestamps inside json_agg arrive as text: these fields become Dates again. */
const DATE_FIELDS = ['createdAt', 'updatedAt', 'deliveredAt', 'redeemedAt', 'at'] as const;
function withDates<T>(row: Record<string, unknown>): T {
  const out: Record<string, unknown> = { ...row };
  for (const f of DATE_FIELDS) if (typeof out[f] === 'string') out[f] = new Date(out[f] as string);
  return out as T;
}

type DetailRow = ActionRow & { apiKeyActive: boolean | null; votes: Record<string, unknown>[]; artifacts: Record<string, unknown>[]; cards: Record<string, unknown>[]; deliveries: Record<string, unknown>[]; redemptions: Record<string, unknown>[] };

/**
 * One action and everything about it in one round trip (the API's action page and every
 * long-poll answer), each list as JSON in the order the separate reads give.
 */
export async function readActionDetail(prisma: PrismaClient, actionId: string, opts: { apiKeyId?: string } = {}): Promise<ActionDetail | null> {
  const [row] = await sqlOf(prisma).query<DetailRow>`
    SELECT a.*,
      (SELECT k."revokedAt" IS NULL FROM "ApiKey" k WHERE k.id = ${opts.apiKeyId ?? null}::text) AS "apiKeyActive",
      COALESCE((SELECT json_agg(v ORDER BY v."createdAt", v.id) FROM "Vote" v WHERE v."actionId" = a.id), '[]'::json) AS votes,
      COALESCE((SELECT json_agg(r ORDER BY r.seq) FROM "Artifact" r WHERE r."actionId" = a.id), '[]'::json) AS artifacts,
      COALESCE((SELECT json_agg(c ORDER BY c."createdAt", c.id) FROM "ChannelCard" c WHERE c."actionId" = a.id), '[]'::json) AS cards,
      COALESCE((SELECT json_agg(d ORDER BY d."createdAt", d.id) FROM "Delivery" d WHERE d."actionId" = a.id), '[]'::json) AS deliveries,
      COALESCE((SELECT json_agg(x ORDER BY x."redeemedAt", x.jti) FROM "ReleaseRedemption" x WHERE x."actionId" = a.id), '[]'::json) AS redemptions
    FROM "Action" a WHERE a.id = ${actionId}`;
  if (!row) return null;
  const { votes, artifacts, cards, deliveries, redemptions, apiKeyActive, ...action } = row;
  return {
    ...(opts.apiKeyId !== undefined ? { apiKeyActive: apiKeyActive === true } : {}),
    action: toActionRecord(action),
    votes: votes.map((v) => toVoteRecord(withDates(v))),
    artifacts: artifacts.map((a) => toSealedArtifact(withDates(a))),
    facts: factsFrom(cards.map((c) => withDates(c)), deliveries.map((d) => withDates(d)), redemptions.map((r) => withDates(r))),
  };
}

type CardRow = { channel: string; target: string; state: string; tier: number; error: string | null; createdAt: Date; updatedAt: Date };
type DeliveryFactRow = ActionFacts['deliveries'][number];
type RedemptionFactRow = ActionFacts['redemptions'][number];

function factsFrom(cards: CardRow[], deliveries: DeliveryFactRow[], redemptions: RedemptionFactRow[]): ActionFacts {
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

/** A LIKE pattern that matches `text` literally. */
function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}
