import { DomainError, filterInstant, type ActionFilterQuery, type ActionStatus, type Outcome } from '@countersign/contracts';
import type { ActionRecord, VoteRecord } from '../action.ts';
import type { DirectoryView } from '../config-view.ts';
import { redactIntent } from '../cards/redact.ts';
import type { Caller } from '../keys/key-service.ts';
import type { ActionCursor, ActionFilter, ActionSearchStore, Visibility } from '../read-ports.ts';
import { approverRolesNow, currentApprovals, progress } from '../slots.ts';
import { isAuditor, readAccess, type ReadPolicy } from './access.ts';
import { canStillFill } from './awaiting.ts';
import type { GateDeps } from './deps.ts';

export const MAX_PAGE = 200;

export interface ListRequest {
  caller: Caller;
  filter: ActionFilter;
  /** Only what the caller can still approve (a reviewer's inbox). */
  awaitingMe?: boolean;
  limit: number;
  cursor?: string;
}

/** One line of a list: enough to triage, redacted as approvers see it. */
export interface ActionSummary {
  id: string;
  status: ActionStatus;
  verdict: Outcome;
  actionType: string;
  resource: string | null;
  summary: string | null;
  requester: { kind: 'person' | 'agent'; id: string; owner: string | null; onBehalfOf: string | null };
  risk: { class: string | null; urgency: string | null };
  environment: string | null;
  ruleIds: string[];
  reasons: string[];
  progress?: { filled: number; needed: number };
  createdAt: string;
  expiresAt?: string;
  decidedAt?: string;
  decidedBy?: string;
}

export interface ActionPage {
  items: ActionSummary[];
  /** Pass as `cursor` for the next page; null on the last one. */
  nextCursor: string | null;
}

export function encodeCursor(c: ActionCursor): string {
  return Buffer.from(JSON.stringify([c.createdAt.toISOString(), c.id])).toString('base64url');
}

export function decodeCursor(text: string): ActionCursor {
  try {
    const [at, id] = JSON.parse(Buffer.from(text, 'base64url').toString('utf8')) as [unknown, unknown];
    const createdAt = new Date(String(at));
    if (typeof at !== 'string' || typeof id !== 'string' || Number.isNaN(createdAt.getTime()) || !/^act_[a-z0-9]{1,40}$/.test(id)) throw new Error('shape');
    return { createdAt, id };
  } catch {
    throw new DomainError('invalid_request', 'The cursor is not one this API returned.', { issues: [{ field: 'cursor', message: 'not a cursor from a previous page' }] });
  }
}

export function summarize(action: ActionRecord, votes: VoteRecord[], unredacted: boolean, directory: DirectoryView): ActionSummary {
  const intent = unredacted ? action.intent : redactIntent(action.intent, action.requirement?.redact ?? []);
  const s: ActionSummary = {
    id: action.id,
    status: action.status,
    verdict: action.outcome,
    actionType: action.actionType,
    resource: intent.action.resource ?? null,
    summary: intent.action.summary ?? null,
    requester: { kind: action.actorKind, id: action.actorId, owner: action.ownerId, onBehalfOf: action.onBehalfOf },
    risk: { class: intent.risk.class ?? null, urgency: intent.risk.urgency ?? null },
    environment: intent.context.environment ?? null,
    ruleIds: action.ruleIds,
    reasons: action.reasons,
    createdAt: action.createdAt.toISOString(),
  };
  if (action.requirement) {
    const approvals = action.status === 'pending'
      ? currentApprovals(votes, approverRolesNow(action, directory))
      : votes.filter((v) => v.decision === 'approve').map((v) => ({ personId: v.personId, roles: v.roles }));
    const p = progress(action.requirement.groups, approvals);
    s.progress = { filled: p.filled, needed: p.needed };
  }
  if (action.expiresAt) s.expiresAt = action.expiresAt.toISOString();
  if (action.decidedAt) s.decidedAt = action.decidedAt.toISOString();
  if (action.decidedBy) s.decidedBy = action.decidedBy;
  return s;
}

/**
 * Lists actions the caller may read, newest first, in pages. The store narrows in SQL; every
 * row is then checked again with the engine's read rule (and, for `awaitingMe`, with the
 * vote's own checks), so a broader SQL filter could never leak or mislead. A page may hold
 * fewer than `limit` items only when it is the last.
 */
export async function listActions(deps: GateDeps, store: ActionSearchStore, policy: ReadPolicy, req: ListRequest): Promise<ActionPage> {
  const { caller } = req;
  const limit = Math.min(Math.max(1, req.limit), MAX_PAGE);
  const now = deps.clock.now();
  const directory = deps.config.current().directory;
  const principal = caller.principal;
  const roles = principal.kind === 'person' ? principal.roles : [];
  const visibleTo: Visibility = isAuditor(caller, policy) ? { all: true } : { principalId: principal.id, roles };
  let awaiting: { personId: string; roles: string[]; now: Date } | undefined;
  const person = principal.kind === 'person' ? directory.person(principal.id) : undefined;
  if (req.awaitingMe) {
    // Agents never vote; a person not (or no longer) in the directory has nothing to decide.
    if (!person) return { items: [], nextCursor: null };
    awaiting = { personId: person.id, roles: person.roles, now };
  }

  const items: ActionSummary[] = [];
  let after = req.cursor ? decodeCursor(req.cursor) : undefined;
  const batch = Math.max(limit, 50);
  for (;;) {
    const rows = await store.searchActions({ filter: req.filter, visibleTo, limit: batch, ...(after ? { after } : {}), ...(awaiting ? { awaiting } : {}) });
    const votes = await store.votesForMany(rows.filter((r) => r.requirement).map((r) => r.id));
    for (const row of rows) {
      after = { createdAt: row.createdAt, id: row.id };
      const access = readAccess(row, caller, policy);
      if (!access) continue;
      const rowVotes = votes.get(row.id) ?? [];
      if (awaiting && !(await canStillFill(deps.config, row, rowVotes, awaiting.personId, now))) continue;
      const summary = summarize(row, rowVotes, access.unredacted, directory);
      // SQL matched the stored environment; a rule may redact it for this reader. A filter
      // matches only what the reader sees, or trying values one by one would read it.
      if (req.filter.environment !== undefined && summary.environment !== req.filter.environment) continue;
      items.push(summary);
      if (items.length === limit) return { items, nextCursor: encodeCursor(after) };
    }
    if (rows.length < batch) return { items, nextCursor: null };
  }
}

/** The list's query parameters (contracts' ActionFilterQuerySchema, already parsed) as a filter. */
export function filterFromQuery(q: ActionFilterQuery): ActionFilter {
  const at = (v: string | undefined) => (v === undefined ? undefined : filterInstant(v));
  const f: ActionFilter = {
    ...(q.status ? { status: q.status } : {}),
    ...(q.actionType ? { actionType: q.actionType } : {}),
    ...(q.resource ? { resourcePrefix: q.resource } : {}),
    ...(q.requester ? { requester: q.requester } : {}),
    ...(q.onBehalfOf ? { onBehalfOf: q.onBehalfOf } : {}),
    ...(q.decidedBy ? { decidedBy: q.decidedBy } : {}),
    ...(q.voter ? { voter: q.voter } : {}),
    ...(q.ruleId ? { ruleId: q.ruleId } : {}),
    ...(q.riskClass ? { riskClass: q.riskClass } : {}),
    ...(q.environment ? { environment: q.environment } : {}),
  };
  const ranges = [
    ['submittedFrom', 'submittedTo'],
    ['decidedFrom', 'decidedTo'],
  ] as const;
  for (const [fromKey, toKey] of ranges) {
    const from = at(q[fromKey]);
    const to = at(q[toKey]);
    if (from && to && from >= to) {
      throw new DomainError('invalid_request', `\`${fromKey}\` must be before \`${toKey}\`.`, { issues: [{ field: fromKey, message: `must be before ${toKey}` }] });
    }
    if (from) f[fromKey] = from;
    if (to) f[toKey] = to;
  }
  return f;
}

/** Whether any filter narrows the list (an export with none is the whole chain). */
export function isNarrowed(f: ActionFilter): boolean {
  return Object.keys(f).length > 0;
}
