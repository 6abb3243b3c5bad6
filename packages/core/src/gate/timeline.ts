import type { SealedArtifact } from '@countersign/contracts';
import type { ActionRecord, VoteRecord } from '../action.ts';
import type { ActionFacts } from '../read-ports.ts';

// The life of one action in time order, for the action view and the console: what happened,
// who did it, through which channel, and the sequence number of the artifact that seals it
// where one exists (cards, reminders, deliveries and redemptions are operational records, not
// evidence, unless an artifact says otherwise).

export type TimelineKind =
  | 'submitted'
  | 'card'
  | 'tier'
  | 'reminder'
  | 'vote'
  | 'decided'
  | 'overridden'
  | 'redeemed'
  | 'webhook'
  | 'execution'
  | 'artifact';

export interface TimelineEntry {
  at: string;
  kind: TimelineKind;
  /** One line a reviewer reads. */
  text: string;
  by?: string;
  channel?: string;
  /** The sealing artifact's sequence number, when this step is evidence. */
  seq?: number;
  /** Operational detail: card state, delivery attempts, response status… */
  detail?: Record<string, unknown>;
}

type Event = { kind: string; personId?: string; tokenId?: string; status?: string; result?: string; decision?: string; [k: string]: unknown };

function eventOf(a: SealedArtifact): Event {
  try {
    return (JSON.parse(a.canonical) as { event: Event }).event;
  } catch {
    // A stored artifact whose body does not parse is shown by its kind; Verify flags it.
    return { kind: a.kind };
  }
}

export function buildTimeline(action: ActionRecord, votes: VoteRecord[], artifacts: SealedArtifact[], facts: ActionFacts, now: Date): TimelineEntry[] {
  const out: TimelineEntry[] = [];
  const events = artifacts.map((a) => ({ a, e: eventOf(a) }));
  const used = new Set<number>();
  const take = (match: (e: Event, a: SealedArtifact) => boolean): SealedArtifact | undefined => {
    const hit = events.find(({ a, e }) => !used.has(a.seq) && match(e, a));
    if (hit) used.add(hit.a.seq);
    return hit?.a;
  };

  const onBehalf = action.onBehalfOf ? ` on behalf of ${action.onBehalfOf}` : '';
  // The submission's artifact: the escalation, or the policy's own decision. An overridden
  // refusal that went on to escalation has both; the policy's refusal came first.
  const byPolicy = (e: Event) => e.kind === 'action.decided' && e.decidedBy === 'policy';
  const first = action.outcome === 'escalate' ? take((e) => e.kind === 'action.escalated') : take(byPolicy);
  out.push({
    at: action.createdAt.toISOString(),
    kind: 'submitted',
    by: action.actorId,
    text: `${action.actorId} submitted ${action.actionType}${onBehalf}; policy said ${action.outcome}`,
    ...(first ? { seq: first.seq } : {}),
  });
  if (first && first.kind === 'action.decided') {
    const status = action.overriddenBy ? 'refused' : action.status;
    out.push({ at: action.createdAt.toISOString(), kind: 'decided', by: 'policy', text: `${status} by policy`, seq: first.seq });
  }

  for (const c of facts.cards) {
    const where = `${c.channel} ${c.target}`;
    out.push({
      at: c.createdAt.toISOString(),
      kind: c.tier > 0 ? 'tier' : 'card',
      channel: c.channel,
      text: c.tier > 0 ? `escalation tier ${c.tier} asked ${where} (${c.state})` : `card ${c.state} in ${where}`,
      detail: { target: c.target, state: c.state, tier: c.tier, ...(c.error ? { error: c.error } : {}) },
    });
  }

  // Postgres does not record reminders (a courtesy); the rule's schedule is shown for the
  // times that passed while the action was pending and cards were posted.
  const posted = facts.cards.some((c) => c.state === 'posted');
  const end = action.decidedAt ?? action.expiresAt ?? now;
  for (const seconds of action.requirement?.channels.reminders ?? []) {
    const at = new Date(action.createdAt.getTime() + seconds * 1000);
    if (posted && at < end && at <= now) {
      out.push({ at: at.toISOString(), kind: 'reminder', text: `reminder due ${seconds}s after submission, next to every posted card`, detail: { scheduled: true } });
    }
  }

  for (const v of votes) {
    const art = take((e) => e.kind === 'vote.recorded' && e.personId === v.personId);
    out.push({
      at: v.createdAt.toISOString(),
      kind: 'vote',
      by: v.personId,
      channel: v.channel,
      text: `${v.personId} ${v.decision === 'approve' ? 'approved' : 'denied'} via ${v.channel}${v.reason ? `: ${v.reason}` : ''}`,
      ...(art ? { seq: art.seq } : {}),
    });
  }

  if (action.decidedAt && action.decidedBy !== 'policy') {
    const art = take((e) => e.kind === 'action.decided');
    out.push({
      at: action.decidedAt.toISOString(),
      kind: 'decided',
      by: action.decidedBy ?? undefined,
      text: `${action.status}${action.decidedBy ? ` (${action.decidedBy})` : ''}${action.decisionReason ? `: ${action.decisionReason}` : ''}`,
      ...(art ? { seq: art.seq } : {}),
    });
  }

  const override = take((e) => e.kind === 'action.overridden');
  if (override || action.overriddenBy) {
    out.push({
      at: override?.at ?? (action.decidedAt ?? action.createdAt).toISOString(),
      kind: 'overridden',
      by: action.overriddenBy ?? undefined,
      text: `refusal overridden by ${action.overriddenBy}: ${action.overrideReason ?? ''} (flagged for review)`,
      ...(override ? { seq: override.seq } : {}),
    });
  }

  for (const r of facts.redemptions) {
    const art = take((e) => e.kind === 'release.redeemed' && e.tokenId === r.jti);
    out.push({
      at: r.redeemedAt.toISOString(),
      kind: 'redeemed',
      by: r.redeemedBy ?? undefined,
      text: `release redeemed for audience ${r.audience}${r.redeemedBy ? ` by ${r.redeemedBy}` : ''}`,
      detail: { audience: r.audience, jti: r.jti },
      ...(art ? { seq: art.seq } : {}),
    });
  }

  for (const d of facts.deliveries) {
    const execution = d.kind === 'execution';
    const art = execution ? take((e) => e.kind === 'action.executed') : undefined;
    out.push({
      at: (d.deliveredAt ?? d.updatedAt).toISOString(),
      kind: execution ? 'execution' : 'webhook',
      text: `${execution ? 'execution' : d.kind} ${d.state} after ${d.attempts} attempt${d.attempts === 1 ? '' : 's'}${d.responseStatus ? ` (HTTP ${d.responseStatus})` : ''}`,
      detail: { state: d.state, attempts: d.attempts, responseStatus: d.responseStatus, ...(d.lastError ? { error: d.lastError } : {}) },
      ...(art ? { seq: art.seq } : {}),
    });
  }

  // Any artifact not placed above (a kind added later) still appears, with its seq.
  for (const { a, e } of events) {
    if (used.has(a.seq)) continue;
    out.push({ at: a.at, kind: 'artifact', text: e.kind, seq: a.seq });
  }

  return out.sort((x, y) => x.at.localeCompare(y.at) || (x.seq ?? Infinity) - (y.seq ?? Infinity));
}
