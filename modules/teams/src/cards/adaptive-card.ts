import { MARKED_CHARACTERS_WARNING, type CardModel } from '@countersign/core';

// The approval card as an Adaptive Card (schema 1.5, Universal Actions). A pure function of
// the engine's CardModel: it never decides what to show or hide, only how. Approve and Deny
// are `Action.Execute` (verb approve/deny, data {actionId}); the reasons are Input.Text fields
// inside a ShowCard, so the client's required-input check applies only to the action that
// needs it. `refresh` makes Teams ask the bot for the current state whenever someone views a
// pending card (user-specific views). Caller and people's text comes from the model in display
// form (hidden characters as ⟨U+XXXX⟩ marks, one-line fields on one line); this file keeps it
// inert: TextRuns, never Markdown, for anything a caller or a voter wrote.

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

/**
 * Teams refuses a message above about 28 KB (HTTP 413, and the card then fails for good), and a
 * request may legitimately carry hundreds of attributes and long texts. The card (which is also
 * the invoke answer to a click) is kept under this many bytes of JSON, leaving room for the
 * activity around it.
 */
export const CARD_BYTE_BUDGET = 24_000;

/** How much of each part is shown; a card over budget is rendered again with the next, smaller set. */
interface Limits {
  /** Rows of each fact list (parameters, where, authority) before "and N more". */
  rows: number;
  key: number;
  value: number;
  title: number;
  /** Justification, outcome, notices. */
  long: number;
  /** Lines of the "Why" and "Votes" lists before "and N more", and the length of each. */
  lines: number;
  line: number;
}

const LIMITS: readonly Limits[] = [
  // value 240: the model's own cut (200 characters and "…(+N chars)") shows whole.
  { rows: 12, key: 60, value: 240, title: 300, long: 1000, lines: 12, line: 500 },
  { rows: 8, key: 50, value: 150, title: 300, long: 600, lines: 8, line: 300 },
  { rows: 6, key: 40, value: 100, title: 200, long: 400, lines: 6, line: 150 },
  { rows: 3, key: 30, value: 60, title: 120, long: 150, lines: 3, line: 80 },
  // Last resort (text that is mostly characters JSON escapes): only what a decision needs.
  { rows: 0, key: 30, value: 40, title: 80, long: 80, lines: 0, line: 60 },
];

/** At most `max` characters, "…" marking a cut (never between the halves of a surrogate pair). */
export function shorten(value: string, max: number): string {
  if (value.length <= max) return value;
  if (max <= 1) return '…';
  let cut = max - 1;
  const last = value.charCodeAt(cut - 1);
  if (last >= 0xd800 && last <= 0xdbff) cut -= 1;
  return `${value.slice(0, cut)}…`;
}

/** Cut so the reader sees it: "…(+1,234 chars)". */
export function cutVisibly(value: string, max: number): string {
  if (value.length <= max) return value;
  const kept = shorten(value, max + 1).slice(0, -1);
  return `${kept}…(+${(value.length - kept.length).toLocaleString('en-US')} chars)`;
}

/**
 * Text the agent wrote, as TextRuns: a RichTextBlock's TextRun is never read as Markdown, so
 * "**APPROVED**", "# Heading" or "[link](http://evil)" show exactly as written and can never
 * pass for the card's own headings, emphasis or links.
 */
function agentWords(label: string, words: string, extra: Json = {}): Json {
  return {
    type: 'RichTextBlock',
    inlines: [
      { type: 'TextRun', text: label, italic: true, isSubtle: true },
      { type: 'TextRun', text: `“${words}”` },
    ],
    ...extra,
  };
}

/** One key/value row of caller text, inert (TextRuns), the value cut visibly. */
function agentRow(r: { key: string; value: string }, l: Limits): Json {
  return {
    type: 'RichTextBlock',
    spacing: 'None',
    inlines: [
      { type: 'TextRun', text: shorten(r.key, l.key), weight: 'Bolder' },
      { type: 'TextRun', text: `: ${cutVisibly(r.value, l.value)}` },
    ],
  };
}

/** Where a reader finds the whole request: the console's action page. */
export interface CardLinks {
  publicUrl?: string;
}

function more(shown: number, total: number, what: string): string | null {
  if (total <= shown) return null;
  return shown === 0 ? `${total} ${what} not shown` : `and ${total - shown} more ${what} not shown`;
}

function text(value: string, extra: Json = {}): Json {
  return { type: 'TextBlock', text: plain(value), wrap: true, ...extra };
}

function facts(title: string | null, rows: { key: string; value: string }[], l: Limits, capped = true): Json[] {
  if (rows.length === 0) return [];
  const shown = capped ? rows.slice(0, l.rows) : rows;
  const blocks: Json[] = title ? [text(title, { weight: 'Bolder', spacing: 'Medium' })] : [];
  if (shown.length > 0) {
    blocks.push({ type: 'FactSet', facts: shown.map((r) => ({ title: plain(shorten(r.key, l.key)), value: plain(shorten(r.value, l.value)) })) });
  }
  const rest = more(shown.length, rows.length, 'entries');
  if (rest) blocks.push(text(rest, { isSubtle: true, spacing: 'None', size: 'Small' }));
  return blocks;
}

/** Rows the caller wrote (where, authority): inert TextRuns, capped, the rest counted. */
function agentFacts(title: string, rows: { key: string; value: string }[], l: Limits): Json[] {
  if (rows.length === 0) return [];
  const shown = rows.slice(0, l.rows);
  const blocks: Json[] = [text(title, { weight: 'Bolder', spacing: 'Medium' }), ...shown.map((r) => agentRow(r, l))];
  const rest = more(shown.length, rows.length, 'entries');
  if (rest) blocks.push(text(rest, { isSubtle: true, spacing: 'None', size: 'Small' }));
  return blocks;
}

/**
 * The intent's fields: the rule's featured ones always, first, whatever the size budget; then
 * the others as room allows; every field not shown is counted, with where to read it.
 */
function paramBlocks(m: CardModel, l: Limits, links: CardLinks): Json[] {
  const blocks: Json[] = [];
  if (m.featured.length > 0) {
    blocks.push(text('Key fields (named by the rule; values as the agent sent them)', { weight: 'Bolder', spacing: 'Medium' }));
    blocks.push(...m.featured.map((r) => agentRow(r, l)));
  }
  const shown = m.params.slice(0, l.rows);
  if (shown.length > 0) {
    blocks.push(text(m.featured.length > 0 ? 'Other fields (as the agent sent them)' : 'Fields (as the agent sent them)', { weight: 'Bolder', spacing: 'Medium' }));
    blocks.push(...shown.map((r) => agentRow(r, l)));
  }
  const hidden = m.params.length - shown.length + m.moreParams;
  if (hidden > 0) {
    const where = links.publicUrl ? `[open the full request](${new URL(m.fullRequestPath, links.publicUrl).href})` : `open the full request in the console at ${m.fullRequestPath}`;
    // Our own words and URL (the id is percent-encoded by the model): a real link, not plain().
    blocks.push({ type: 'TextBlock', text: `+${hidden} more field${hidden === 1 ? '' : 's'} — ${where}`, wrap: true, weight: 'Bolder', spacing: 'Small' });
  }
  return blocks;
}

/** Facts countersign states itself (directory names, times): a FactSet. */
function summaryFacts(m: CardModel): { key: string; value: string }[] {
  const rows = [{ key: 'Action', value: m.actionType }];
  rows.push({ key: 'Requested by', value: `${m.who.actor}${m.who.actorKind === 'agent' ? ' (agent)' : ''}` });
  if (m.who.owner) rows.push({ key: 'Agent owner', value: m.who.owner });
  if (m.who.onBehalfOf) rows.push({ key: 'On behalf of', value: m.who.onBehalfOf });
  if (m.expiresAt && m.status === 'pending') rows.push({ key: 'Expires', value: formatTime(m.expiresAt) });
  return rows;
}

/**
 * The resource and the risk labels are the agent's words: FactSet values are read as Markdown
 * (a resource could draw "**Approvals: 2 of 2**"), so they go out as inert TextRuns instead.
 */
function summaryAgentRows(m: CardModel, l: Limits): Json[] {
  const rows: { key: string; value: string }[] = [];
  if (m.resource) rows.push({ key: 'Resource', value: m.resource });
  const risk = [m.risk.class, m.risk.urgency ? `urgency ${m.risk.urgency}` : null].filter(Boolean).join(' · ');
  if (risk) rows.push({ key: 'Risk (as the agent labels it)', value: risk });
  return rows.map((r) => agentRow(r, l));
}

/** A bulleted list of at most `l.lines` lines, each shortened, then "and N more". */
function list(heading: string, lines: string[], l: Limits, what: string): Json[] {
  if (lines.length === 0) return [];
  const shown = lines.slice(0, l.lines).map((line) => `- ${shorten(line, l.line)}`);
  const rest = more(shown.length, lines.length, what);
  if (rest) shown.push(rest);
  return [text(heading, { weight: 'Bolder', spacing: 'Medium' }), text(shown.join('\n'))];
}

/**
 * A list of lines as TextRuns, one RichTextBlock per line: what voters wrote in them can be
 * neither Markdown nor a line of its own. At most `l.lines` lines, then "and N more".
 */
function runList(heading: string, lines: Json[][], l: Limits, what: string): Json[] {
  if (lines.length === 0) return [];
  const blocks: Json[] = [text(heading, { weight: 'Bolder', spacing: 'Medium' })];
  for (const inlines of lines.slice(0, l.lines)) blocks.push({ type: 'RichTextBlock', spacing: 'None', inlines });
  const rest = more(Math.min(lines.length, l.lines), lines.length, what);
  if (rest) blocks.push(text(rest, { isSubtle: true, spacing: 'None', size: 'Small' }));
  return blocks;
}

function whyBlocks(m: CardModel, l: Limits): Json[] {
  const lines: string[] = [];
  m.ruleIds.forEach((rule, i) => lines.push(`${rule}${m.reasons[i] ? `: ${m.reasons[i]}` : ''}`));
  for (const reason of m.reasons.slice(m.ruleIds.length)) lines.push(reason);
  return list('Why', lines, l, 'reasons');
}

function requirementBlocks(m: CardModel, l: Limits): Json[] {
  if (!m.requirement) return [];
  const r = m.requirement;
  const needs = r.groups.map((g) => `${g.count} ${g.role}`).join(' + ');
  const still = m.status === 'pending' && r.stillNeeds ? ` · still needs ${r.stillNeeds}` : '';
  return [
    text(shorten(`Approvals: ${r.filled} of ${r.needed} (${needs}, distinct people)${still}`, Math.max(l.long, 200)), { spacing: 'Medium', weight: 'Bolder' }),
    ...(r.approvalReasonRequired ? [text('This rule requires a reason with each approval.', { isSubtle: true, spacing: 'None' })] : []),
  ];
}

/** Each vote: who, how and when in our words, the voter's reason quoted after it, all TextRuns. */
function voteBlocks(m: CardModel, l: Limits): Json[] {
  const lines = m.votes.map((v) => {
    const said = `${v.decision === 'approve' ? '✅ approved' : '⛔ denied'} by ${v.person} via ${v.channel}, ${formatTime(v.at)}`;
    const inlines: Json[] = [{ type: 'TextRun', text: shorten(said, l.line) }];
    if (v.reason) inlines.push({ type: 'TextRun', text: `: “${shorten(v.reason, l.line)}”`, italic: true });
    return inlines;
  });
  return runList('Votes', lines, l, 'votes');
}

/**
 * The outcome line holds a person's words (a deny, cancel or override reason): one TextRun,
 * never Markdown, and on one line (the model folded its line breaks).
 */
function outcomeBlocks(m: CardModel, l: Limits): Json[] {
  if (!m.outcome) return [];
  const headline = STATUS_HEADLINE[m.outcome.status];
  const line = `${shorten(m.outcome.text, l.long)}${m.outcome.at ? ` · ${formatTime(m.outcome.at)}` : ''}`;
  return [
    {
      type: 'Container',
      style: headline.style,
      spacing: 'Medium',
      items: [{ type: 'RichTextBlock', inlines: [{ type: 'TextRun', text: line, weight: 'Bolder', color: headline.color }] }],
    },
  ];
}

/** Said on top when the model marked characters (hidden ones or look-alike letters), so the marks are not overlooked. */
function markedCharactersBlocks(m: CardModel): Json[] {
  if (!m.markedCharacters) return [];
  return [{ type: 'Container', style: 'warning', items: [text(MARKED_CHARACTERS_WARNING, { weight: 'Bolder', color: 'Warning' })] }];
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

/**
 * The card for `m` as `view`'s viewer sees it, within CARD_BYTE_BUDGET: rendered with the
 * fullest limits that fit.
 */
export function buildAdaptiveCard(m: CardModel, view: CardView = {}, links: CardLinks = {}): Json {
  let card: Json = {};
  for (const limits of LIMITS) {
    card = render(m, view, limits, links);
    if (Buffer.byteLength(JSON.stringify(card), 'utf8') <= CARD_BYTE_BUDGET) return card;
  }
  // Not reached: the last limits leave about 1,500 characters of text, under the budget even
  // at six bytes each (JSON-escaped control characters). Were it reached, Teams' 413 says so.
  return card;
}

function render(m: CardModel, view: CardView, l: Limits, links: CardLinks): Json {
  const headline = STATUS_HEADLINE[m.status];
  const title = shorten(m.title, l.title);
  const body: Json[] = [];
  if (view.notice) body.push(noticeBlock(view.notice, Math.max(l.long, 300)));
  body.push(
    text(`countersign · ${headline.text}`, { size: 'Small', weight: 'Bolder', color: headline.color }),
    ...markedCharactersBlocks(m),
    // The heading is ours (the action type); the agent's summary is quoted below it, as theirs.
    text(shorten(m.actionType, l.title), { size: 'Large', weight: 'Bolder', spacing: 'Small' }),
    agentWords('The agent says: ', title, { spacing: 'Small' }),
    text(`Intent sha256 ${m.intentHashPrefix}… (what the release token binds)`, { size: 'Small', isSubtle: true, spacing: 'Small' }),
    // The summary rows are few and fixed; only their values are shortened.
    ...facts(null, summaryFacts(m), l, false),
    ...summaryAgentRows(m, l),
    ...paramBlocks(m, l, links),
    ...agentFacts('Where', m.where, l),
    ...agentFacts('Authority', m.authority, l),
    ...(m.justification ? [text('Justification', { weight: 'Bolder', spacing: 'Medium' }), agentWords('The agent says: ', cutVisibly(m.justification, l.long))] : []),
    ...whyBlocks(m, l),
    ...requirementBlocks(m, l),
    ...voteBlocks(m, l),
    ...outcomeBlocks(m, l),
    text(`Action ${m.actionId}`, { size: 'Small', isSubtle: true, spacing: 'Medium' }),
  );
  const card: Json = {
    type: 'AdaptiveCard',
    $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
    version: CARD_VERSION,
    fallbackText: `${headline.text}: ${plain(shorten(m.actionType, l.title))}`,
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

/**
 * What someone who may not read the action gets instead of its card (a refresh, a refused
 * click): nothing about the action, not even whether it exists or how it ended, as the API's
 * not_found says nothing either. Only `notice`, which is about the viewer (who they are to us).
 */
export function buildWithheldCard(notice?: CardView['notice']): Json {
  const body: Json[] = [];
  if (notice) body.push(noticeBlock(notice, 300));
  body.push(
    text('countersign · Request not shown', { size: 'Small', weight: 'Bolder' }),
    text("You can't view this request. It is shown only to the people who may read it in countersign: its requester, those who can decide it, and auditors.", { spacing: 'Small' }),
  );
  return {
    type: 'AdaptiveCard',
    $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
    version: CARD_VERSION,
    fallbackText: "countersign: you can't view this request.",
    body,
    msteams: { width: 'Full' },
  };
}

function noticeBlock(notice: NonNullable<CardView['notice']>, max: number): Json {
  return {
    type: 'Container',
    style: notice.tone === 'default' ? 'emphasis' : notice.tone,
    items: [text(shorten(notice.text, max), { weight: 'Bolder', color: notice.tone === 'default' ? 'Default' : capitalise(notice.tone) })],
  };
}

function capitalise(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

/** The activity attachment Teams renders. */
export function cardAttachment(card: Json): { contentType: string; content: Json } {
  return { contentType: ADAPTIVE_CARD_CONTENT_TYPE, content: card };
}
