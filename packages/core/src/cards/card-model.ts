import type { ActionStatus, Intent, RoleGroup } from '@countersign/contracts';
import type { ActionRecord, VoteRecord } from '../action.ts';
import type { DirectoryView } from '../config-view.ts';
import { describeOpen, progress } from '../slots.ts';
import { redactIntent } from './redact.ts';

/**
 * Everything an approval card shows, independent of Slack or Teams. Channels render it
 * (Block Kit, Adaptive Cards); they never decide what to show or hide.
 */
export interface CardModel {
  actionId: string;
  status: ActionStatus;
  /** One line: the intent's summary, else "<type> on <resource>". */
  title: string;
  actionType: string;
  resource: string | null;
  /**
   * The fields the rule features (`feature: [params.amount, …]`), always shown, before anything
   * else: an agent cannot push them off the card with extra (or numeric-looking) keys.
   */
  featured: { key: string; value: string }[];
  /** Other parameters, up to a cap, with the rule's redacted fields replaced by "[redacted]". */
  params: { key: string; value: string }[];
  /** Parameters neither featured nor shown: the card says how many and links to the full request. */
  moreParams: number;
  /** The console page with the whole (redacted) request: `/console/actions/<id>`. */
  fullRequestPath: string;
  /** The first characters of the normalised intent's SHA-256, the hash the release token binds. */
  intentHashPrefix: string;
  who: { actor: string; actorKind: 'person' | 'agent'; owner: string | null; onBehalfOf: string | null };
  where: { key: string; value: string }[];
  risk: { class: string | null; urgency: string | null };
  authority: { key: string; value: string }[];
  justification: string | null;
  ruleIds: string[];
  reasons: string[];
  requirement: { groups: RoleGroup[]; filled: number; needed: number; stillNeeds: string; approvalReasonRequired: boolean } | null;
  votes: { person: string; decision: 'approve' | 'deny'; reason: string | null; channel: string; at: string }[];
  expiresAt: string | null;
  /** Final outcome line, e.g. "Approved by bob at 2026-…"; null while pending. */
  outcome: { status: ActionStatus; by: string | null; at: string | null; text: string } | null;
  /** Approve / Deny buttons are shown only while pending. */
  actionable: boolean;
}

const MAX_PARAMS = 12;
const MAX_VALUE = 200;
const HASH_PREFIX = 12;

/** Cut visibly: the reader sees that, and how much, is missing. */
export function cutValue(text: string, max = MAX_VALUE): string {
  if (text.length <= max) return text;
  return `${text.slice(0, max)}…(+${(text.length - max).toLocaleString('en-US')} chars)`;
}

function display(directory: DirectoryView, id: string | null): string | null {
  if (!id) return null;
  const p = directory.principal(id);
  return p ? `${p.name} (${id})` : id;
}

function short(value: unknown): string {
  return cutValue(typeof value === 'string' ? value : JSON.stringify(value));
}

/** The value at a `params.a.b` path under the (redacted) params, if present. */
function paramAt(params: Record<string, unknown>, spec: string): { found: boolean; value: unknown } {
  let node: unknown = params;
  for (const key of spec.split('.').slice(1)) {
    if (!node || typeof node !== 'object' || !Object.hasOwn(node, key)) return { found: false, value: undefined };
    node = (node as Record<string, unknown>)[key];
  }
  return { found: node !== undefined, value: node };
}

/**
 * Featured fields first (as the rule lists them), then the other top-level params up to the
 * cap; whatever is left is counted, never silently dropped.
 */
function paramRows(params: Record<string, unknown>, feature: string[]): Pick<CardModel, 'featured' | 'params' | 'moreParams'> {
  const featured: CardModel['featured'] = [];
  const featuredTop = new Set<string>();
  for (const spec of feature) {
    const at = paramAt(params, spec);
    if (!at.found) continue;
    const key = spec.slice('params.'.length);
    featured.push({ key, value: short(at.value) });
    // A featured top-level key is not listed again; a featured nested field leaves its parent listed.
    if (!key.includes('.')) featuredTop.add(key);
  }
  const rest = entries(params).filter((p) => !featuredTop.has(p.key));
  const room = Math.max(0, MAX_PARAMS - featured.length);
  return { featured, params: rest.slice(0, room), moreParams: Math.max(0, rest.length - room) };
}

function entries(obj: Record<string, unknown> | undefined, skip: string[] = []): { key: string; value: string }[] {
  if (!obj) return [];
  return Object.entries(obj)
    .filter(([k, v]) => !skip.includes(k) && v !== undefined)
    .map(([key, value]) => ({ key, value: short(value) }));
}

function outcomeText(a: ActionRecord, directory: DirectoryView): string {
  const by = display(directory, a.decidedBy);
  switch (a.status) {
    case 'approved':
      if (a.overriddenBy && a.decidedBy === 'policy') return `Approved by override of ${display(directory, a.overriddenBy)}: ${a.overrideReason ?? ''}`;
      // An override that handed the action to escalation: the approvers decided.
      if (a.overriddenBy) return `Approved by ${by} (refusal overridden by ${display(directory, a.overriddenBy)}: ${a.overrideReason ?? ''})`;
      return `Approved${a.decidedBy === 'policy' ? ' by policy' : ` by ${by}`}`;
    case 'refused':
      return a.decidedBy === 'policy' ? 'Refused by policy' : `Denied by ${by}${a.decisionReason ? `: ${a.decisionReason}` : ''}`;
    case 'expired':
      return 'Expired: not approved in time, so refused';
    case 'cancelled':
      return `Cancelled by the requester${a.decisionReason ? `: ${a.decisionReason}` : ''}`;
    default:
      return 'Pending';
  }
}

export function buildCardModel(a: ActionRecord, votes: VoteRecord[], directory: DirectoryView): CardModel {
  // Everything below reads the redacted copy: a field the rule redacts never reaches a card.
  const intent: Intent = redactIntent(a.intent, a.requirement?.redact ?? []);
  const rows = paramRows(intent.action.params ?? {}, a.requirement?.feature ?? []);
  let requirement: CardModel['requirement'] = null;
  if (a.requirement) {
    const approvals = votes.filter((v) => v.decision === 'approve').map((v) => ({ personId: v.personId, roles: v.roles }));
    const p = progress(a.requirement.groups, approvals);
    requirement = {
      groups: a.requirement.groups,
      filled: p.filled,
      needed: p.needed,
      stillNeeds: describeOpen(p.open),
      approvalReasonRequired: a.requirement.approvalReasonRequired,
    };
  }
  const decidedAt = a.decidedAt;
  return {
    actionId: a.id,
    status: a.status,
    title: intent.action.summary ?? `${intent.action.type}${intent.action.resource ? ` on ${intent.action.resource}` : ''}`,
    actionType: intent.action.type,
    resource: intent.action.resource ?? null,
    ...rows,
    fullRequestPath: `/console/actions/${encodeURIComponent(a.id)}`,
    intentHashPrefix: a.intentHash.slice(0, HASH_PREFIX),
    who: {
      actor: display(directory, a.actorId) ?? a.actorId,
      actorKind: a.actorKind,
      owner: display(directory, a.ownerId),
      onBehalfOf: display(directory, a.onBehalfOf),
    },
    where: entries(intent.context as Record<string, unknown>, ['attributes']).concat(entries(intent.context.attributes)),
    risk: { class: intent.risk.class ?? null, urgency: intent.risk.urgency ?? null },
    authority: entries(intent.authority as Record<string, unknown>, ['attributes']).concat(entries(intent.authority.attributes)),
    justification: intent.justification ?? null,
    ruleIds: a.ruleIds,
    reasons: a.reasons,
    requirement,
    votes: votes.map((v) => ({ person: display(directory, v.personId) ?? v.personId, decision: v.decision, reason: v.reason, channel: v.channel, at: v.createdAt.toISOString() })),
    expiresAt: a.expiresAt?.toISOString() ?? null,
    outcome:
      a.status === 'pending'
        ? null
        : { status: a.status, by: a.overriddenBy ?? a.decidedBy, at: decidedAt?.toISOString() ?? null, text: outcomeText(a, directory) },
    actionable: a.status === 'pending',
  };
}
