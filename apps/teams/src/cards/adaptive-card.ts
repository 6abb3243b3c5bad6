import type { CardModel } from '@countersign/core';

// The approval card as an Adaptive Card (schema 1.5, Universal Actions). A pure function of
// the engine's CardModel: it never decides what to show or hide, only how. Approve and Deny
// are `Action.Execute` (verb approve/deny, data {actionId}); the reasons are Input.Text fields
// inside a ShowCard, so the client's required-input check applies only to the action that
// needs it. `refresh` makes Teams ask the bot for the current state whenever someone views a
// pending card (user-specific views).

export const ADAPTIVE_CARD_CONTENT_TYPE = 'application/vnd.microsoft.card.adaptive';
export const CARD_VERSION = '1.5';

export type Verb = 'approve' | 'deny' | 'refresh';
export const APPROVE_REASON_INPUT = 'approveReason';
export const DENY_REASON_INPUT = 'denyReason';

/** What one viewer sees on top of the shared card (the invoke response is theirs alone). */
export interface CardView {
  /** A message for this viewer only, e.g. why their click was refused. */
  notice?: { text: string; tone: 'attention' | 'warning' | 'good' | 'default' };
  /** Hide Approve/Deny for this viewer (they already voted) even though the action is pending. */
  hideActions?: boolean;
}

type Json = Record<string, unknown>;

const STATUS_HEADLINE: Record<CardModel['status'], { text: string; color: string; style: string }> = {
  pending: { text: 'Approval needed', color: 'Warning', style: 'warning' },
  approved: { text: 'Approved', color: 'Good', style: 'good' },
  refused: { text: 'Refused', color: 'Attention', style: 'attention' },
  expired: { text: 'Expired', color: 'Attention', style: 'attention' },
  cancelled: { text: 'Cancelled', color: 'Default', style: 'emphasis' },
};

/** "2026-05-01T10:00:00.000Z" → "2026-05-01 10:00 UTC" (cards are read by people, in many zones). */
export function formatTime(iso: string): string {
  const m = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2})/.exec(iso);
  return m ? `${m[1]} ${m[2]} UTC` : iso;
}

/**
 * Text on the card comes from callers (summaries, parameters, reasons). Teams renders TextBlocks
 * and facts as Markdown, so "[Approve here](https://…)" would be a disguised link; a zero-width
 * space after every "]" keeps the text as written and makes link syntax inert.
 */
export function plain(value: string): string {
  return value.replaceAll(']', ']\u200B');
}

function text(value: string, extra: Json = {}): Json {
  return { type: 'TextBlock', text: plain(value), wrap: true, ...extra };
}

function facts(title: string | null, rows: { key: string; value: string }[]): Json[] {
  if (rows.length === 0) return [];
  const set: Json = { type: 'FactSet', facts: rows.map((r) => ({ title: plain(r.key), value: plain(r.value) })) };
  return title ? [text(title, { weight: 'Bolder', spacing: 'Medium' }), set] : [set];
}

function summaryFacts(m: CardModel): { key: string; value: string }[] {
  const rows = [{ key: 'Action', value: m.actionType }];
  if (m.resource) rows.push({ key: 'Resource', value: m.resource });
  rows.push({ key: 'Requested by', value: `${m.who.actor}${m.who.actorKind === 'agent' ? ' (agent)' : ''}` });
  if (m.who.owner) rows.push({ key: 'Agent owner', value: m.who.owner });
  if (m.who.onBehalfOf) rows.push({ key: 'On behalf of', value: m.who.onBehalfOf });
  const risk = [m.risk.class, m.risk.urgency ? `urgency ${m.risk.urgency}` : null].filter(Boolean).join(' · ');
  if (risk) rows.push({ key: 'Risk', value: risk });
  if (m.expiresAt && m.status === 'pending') rows.push({ key: 'Expires', value: formatTime(m.expiresAt) });
  return rows;
}

function whyBlocks(m: CardModel): Json[] {
  const lines: string[] = [];
  m.ruleIds.forEach((rule, i) => lines.push(`- ${rule}${m.reasons[i] ? `: ${m.reasons[i]}` : ''}`));
  for (const reason of m.reasons.slice(m.ruleIds.length)) lines.push(`- ${reason}`);
  return lines.length ? [text('Why', { weight: 'Bolder', spacing: 'Medium' }), text(lines.join('\n'))] : [];
}

function requirementBlocks(m: CardModel): Json[] {
  if (!m.requirement) return [];
  const r = m.requirement;
  const needs = r.groups.map((g) => `${g.count} ${g.role}`).join(' + ');
  const still = m.status === 'pending' && r.stillNeeds ? ` · still needs ${r.stillNeeds}` : '';
  return [
    text(`Approvals: ${r.filled} of ${r.needed} (${needs}, distinct people)${still}`, { spacing: 'Medium', weight: 'Bolder' }),
    ...(r.approvalReasonRequired ? [text('This rule requires a reason with each approval.', { isSubtle: true, spacing: 'None' })] : []),
  ];
}

function voteBlocks(m: CardModel): Json[] {
  if (m.votes.length === 0) return [];
  const lines = m.votes.map(
    (v) => `- ${v.decision === 'approve' ? '✅ approved' : '⛔ denied'} by ${v.person} via ${v.channel}, ${formatTime(v.at)}${v.reason ? `: ${v.reason}` : ''}`,
  );
  return [text('Votes', { weight: 'Bolder', spacing: 'Medium' }), text(lines.join('\n'))];
}

function outcomeBlocks(m: CardModel): Json[] {
  if (!m.outcome) return [];
  const headline = STATUS_HEADLINE[m.outcome.status];
  return [
    {
      type: 'Container',
      style: headline.style,
      spacing: 'Medium',
      items: [text(`${m.outcome.text}${m.outcome.at ? ` · ${formatTime(m.outcome.at)}` : ''}`, { weight: 'Bolder', color: headline.color })],
    },
  ];
}

function reasonCard(inputId: string, label: string, verb: 'approve' | 'deny', actionId: string): Json {
  return {
    type: 'AdaptiveCard',
    body: [
      {
        type: 'Input.Text',
        id: inputId,
        label,
        isMultiline: true,
        maxLength: 500,
        isRequired: true,
        errorMessage: 'A reason is required.',
      },
    ],
    actions: [
      {
        type: 'Action.Execute',
        verb,
        title: verb === 'approve' ? 'Approve' : 'Deny',
        style: verb === 'approve' ? 'positive' : 'destructive',
        data: { actionId },
      },
    ],
  };
}

function actionButtons(m: CardModel): Json[] {
  const approve: Json = m.requirement?.approvalReasonRequired
    ? { type: 'Action.ShowCard', title: 'Approve…', card: reasonCard(APPROVE_REASON_INPUT, 'Why do you approve? (required by the rule)', 'approve', m.actionId) }
    : { type: 'Action.Execute', verb: 'approve', title: 'Approve', style: 'positive', data: { actionId: m.actionId } };
  const deny: Json = { type: 'Action.ShowCard', title: 'Deny…', card: reasonCard(DENY_REASON_INPUT, 'Why do you deny? (required)', 'deny', m.actionId) };
  return [approve, deny];
}

export function buildAdaptiveCard(m: CardModel, view: CardView = {}): Json {
  const headline = STATUS_HEADLINE[m.status];
  const body: Json[] = [];
  if (view.notice) {
    body.push({
      type: 'Container',
      style: view.notice.tone === 'default' ? 'emphasis' : view.notice.tone,
      items: [text(view.notice.text, { weight: 'Bolder', color: view.notice.tone === 'default' ? 'Default' : capitalise(view.notice.tone) })],
    });
  }
  body.push(
    text(`countersign · ${headline.text}`, { size: 'Small', weight: 'Bolder', color: headline.color }),
    text(m.title, { size: 'Large', weight: 'Bolder', spacing: 'Small' }),
    ...facts(null, summaryFacts(m)),
    ...facts('Parameters', m.params),
    ...facts('Where', m.where),
    ...facts('Authority', m.authority),
    ...(m.justification ? [text('Justification', { weight: 'Bolder', spacing: 'Medium' }), text(m.justification)] : []),
    ...whyBlocks(m),
    ...requirementBlocks(m),
    ...voteBlocks(m),
    ...outcomeBlocks(m),
    text(`Action ${m.actionId}`, { size: 'Small', isSubtle: true, spacing: 'Medium' }),
  );
  const card: Json = {
    type: 'AdaptiveCard',
    $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
    version: CARD_VERSION,
    fallbackText: `${headline.text}: ${plain(m.title)}`,
    body,
    msteams: { width: 'Full' },
  };
  if (m.actionable) {
    // Only a pending card asks Teams to refresh it per viewer; a final one is the same for all.
    card.refresh = { action: { type: 'Action.Execute', verb: 'refresh', title: 'Refresh', data: { actionId: m.actionId } } };
    if (!view.hideActions) card.actions = actionButtons(m);
  }
  return card;
}

function capitalise(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

/** The activity attachment Teams renders. */
export function cardAttachment(card: Json): { contentType: string; content: Json } {
  return { contentType: ADAPTIVE_CARD_CONTENT_TYPE, content: card };
}
