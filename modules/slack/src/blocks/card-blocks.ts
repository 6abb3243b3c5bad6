import type { ActionsBlock, ContextBlock, HeaderBlock, KnownBlock, PlainTextElement, SectionBlock } from '@slack/types';
import { displayLine } from '@countersign/contracts';
import { MARKED_CHARACTERS_WARNING, type CardModel } from '@countersign/core';
import { clip, code, escapeText, safe, slackDate } from './mrkdwn.ts';

// The approval card as Block Kit: a pure function of the engine's CardModel. The model has
// already decided what may be shown (redacted parameters, display names) and put caller and
// people's text in display form (hidden characters as ⟨U+XXXX⟩ marks, one-line fields on one
// line); this file only lays it out within Block Kit's limits, keeping that text inert.
// Buttons exist only while the action is pending.

/** Block Kit limits (https://docs.slack.dev/reference/block-kit). */
export const LIMITS = {
  blocks: 50,
  headerText: 150,
  sectionText: 3000,
  fieldText: 2000,
  fields: 10,
  contextElements: 10,
  buttonValue: 2000,
  actionId: 255,
  fallbackText: 3000,
} as const;

/**
 * Interactive ids: the verb first (routing), the countersign action id last (what to vote on).
 * Whether an approval needs a reason rides on the button, so a plain approval is voted on
 * without reading the action first; if a button ever said otherwise than the rule, the engine
 * still refuses an approval without its required reason (and the clicker is told).
 */
export const APPROVE_PREFIX = 'countersign:approve:';
export const APPROVE_WITH_REASON_PREFIX = 'countersign:approve-with-reason:';
export const DENY_PREFIX = 'countersign:deny:';

export interface Click {
  actionId: string;
  decision: 'approve' | 'deny';
  /** A modal asks for the reason before the vote. */
  needsReason: boolean;
}

/** Reads a button's action_id back; null for anything that is not one of our buttons. */
export function parseClick(actionIdField: string): Click | null {
  const read = (prefix: string) => (actionIdField.startsWith(prefix) ? actionIdField.slice(prefix.length) : null);
  const plain = read(APPROVE_PREFIX);
  if (plain) return { actionId: plain, decision: 'approve', needsReason: false };
  const withReason = read(APPROVE_WITH_REASON_PREFIX);
  if (withReason) return { actionId: withReason, decision: 'approve', needsReason: true };
  const deny = read(DENY_PREFIX);
  if (deny) return { actionId: deny, decision: 'deny', needsReason: true };
  return null;
}

const STATUS_WORD: Record<CardModel['status'], string> = {
  pending: 'Approval needed',
  approved: 'Approved',
  refused: 'Refused',
  expired: 'Expired',
  cancelled: 'Cancelled',
};

const STATUS_EMOJI: Record<CardModel['status'], string> = {
  pending: ':hourglass_flowing_sand:',
  approved: ':white_check_mark:',
  refused: ':no_entry:',
  expired: ':alarm_clock:',
  cancelled: ':leftwards_arrow_with_hook:',
};

export interface RenderedCard {
  /** Notification and screen-reader fallback. */
  text: string;
  blocks: KnownBlock[];
}

function section(text: string): SectionBlock {
  return { type: 'section', text: { type: 'mrkdwn', text: clip(text, LIMITS.sectionText) } };
}

/**
 * Text the agent wrote goes out as plain_text: Slack shows it exactly as written, so "*APPROVED*",
 * "<!channel>" or "<https://evil|here>" can never become the card's own bold, mentions or links.
 * (plain_text is never parsed, so it is not entity-escaped either.) Emoji codes stay literal.
 */
function agentText(text: string, max: number): PlainTextElement {
  return { type: 'plain_text', text: clip(text, max), emoji: false };
}

function agentSection(text: string): SectionBlock {
  return { type: 'section', text: agentText(text, LIMITS.sectionText) };
}

function fieldSections(pairs: { key: string; value: string }[]): SectionBlock[] {
  const out: SectionBlock[] = [];
  for (let i = 0; i < pairs.length; i += LIMITS.fields) {
    const fields = pairs.slice(i, i + LIMITS.fields).map((p) => agentText(`${clip(p.key, 100)}:\n${p.value}`, LIMITS.fieldText));
    out.push({ type: 'section', fields });
  }
  return out;
}

function context(parts: string[]): ContextBlock {
  return {
    type: 'context',
    elements: parts.slice(0, LIMITS.contextElements).map((text) => ({ type: 'mrkdwn' as const, text: clip(text, LIMITS.fieldText) })),
  };
}

// The heading is ours (status and action type), never the agent's summary.
function header(card: CardModel): HeaderBlock {
  return { type: 'header', text: { type: 'plain_text', text: clip(`${STATUS_WORD[card.status]}: ${card.actionType}`, LIMITS.headerText), emoji: true } };
}

/** Where the whole request can be read; a path alone when the service's URL is unknown. */
function fullRequestLink(card: CardModel, links: CardLinks): string {
  if (!links.publicUrl) return `open the full request in the console at \`${safe(card.fullRequestPath, 300)}\``;
  const url = new URL(card.fullRequestPath, links.publicUrl).href;
  return `<${escapeText(url)}|open the full request>`;
}

function whatBlocks(card: CardModel, links: CardLinks): KnownBlock[] {
  const on = card.resource ? ` on ${code(card.resource, 500)}` : '';
  const blocks: KnownBlock[] = [
    section(`\`${safe(card.actionType, 200)}\`${on}\nIntent sha256 \`${safe(card.intentHashPrefix, 64)}…\` (what the release token binds)`),
    agentSection(`The agent says: “${card.title}”`),
  ];
  if (card.featured.length > 0) blocks.push(section('*Key fields* (named by the rule; values as the agent sent them)'), ...fieldSections(card.featured));
  if (card.params.length > 0) blocks.push(section(card.featured.length > 0 ? '*Other fields* (as the agent sent them)' : '*Fields* (as the agent sent them)'), ...fieldSections(card.params));
  if (card.moreParams > 0) blocks.push(section(`*+${card.moreParams} more field${card.moreParams === 1 ? '' : 's'}* — ${fullRequestLink(card, links)}`));
  return blocks;
}

function whoBlock(card: CardModel): SectionBlock {
  const kind = card.who.actorKind === 'agent' ? 'agent' : 'person';
  const lines = [`*Requested by:* ${safe(card.who.actor, 300)} (${kind})`];
  if (card.who.owner) lines.push(`*Agent owner:* ${safe(card.who.owner, 300)}`);
  if (card.who.onBehalfOf) lines.push(`*On behalf of:* ${safe(card.who.onBehalfOf, 300)}`);
  return section(lines.join('\n'));
}

function riskBlock(card: CardModel): SectionBlock {
  // The agent's own labels: code spans, so they cannot draw formatting of the card's own.
  const risk = card.risk.class ? code(card.risk.class, 100) : 'not stated';
  const urgency = card.risk.urgency ? code(card.risk.urgency, 100) : 'not stated';
  return section(`*Risk (as the agent labels it):* ${risk}   *Urgency:* ${urgency}`);
}

function authorityBlocks(card: CardModel): KnownBlock[] {
  const blocks: KnownBlock[] = [];
  if (card.authority.length > 0) {
    blocks.push(section('*Authority*'), ...fieldSections(card.authority));
  } else {
    blocks.push(section('*Authority:* none given'));
  }
  blocks.push(card.justification ? agentSection(`Justification, the agent says: “${card.justification}”`) : section('*Justification:* none given'));
  return blocks;
}

function progressLine(card: CardModel): string | null {
  const r = card.requirement;
  if (!r) return null;
  const still = r.filled < r.needed && r.stillNeeds ? `: still needs ${safe(r.stillNeeds, 500)}` : '';
  const reason = r.approvalReasonRequired ? ' (approvals need a reason)' : '';
  return `*Approvals:* ${r.filled} of ${r.needed}${still}${reason}`;
}

/**
 * A person's words (a vote's reason, a deny or cancel reason) inside the card's own mrkdwn:
 * quoted, as a code span, on one line (the model folded its line breaks), so that
 * ":white_check_mark: approved by …", "*bold*" or "~struck~" in it shows as typed and can never
 * pass for a line or the emphasis of the card's own.
 */
function personWords(text: string, max: number): string {
  return `“${code(text, max)}”`;
}

function votesLines(card: CardModel): string[] {
  return card.votes.map((v) => {
    const mark = v.decision === 'approve' ? ':white_check_mark: approved' : ':x: denied';
    const reason = v.reason ? `: ${personWords(v.reason, 300)}` : '';
    return `${mark} by ${safe(v.person, 200)} (${safe(v.channel, 20)}) ${slackDate(v.at)}${reason}`;
  });
}

function decisionBlocks(card: CardModel): KnownBlock[] {
  const lines = [progressLine(card), ...votesLines(card)].filter((l): l is string => l !== null);
  return lines.length > 0 ? [section(lines.join('\n'))] : [];
}

/** "✅ *Denied by Bob (bob)*: “`not today`”": our words bold, the person's quoted and inert. */
function outcomeLine(outcome: NonNullable<CardModel['outcome']>, status: CardModel['status']): string {
  const reason = outcome.reason ? `: ${personWords(outcome.reason, 1500)}` : '';
  return `${STATUS_EMOJI[status]} *${safe(outcome.headline, 500)}*${reason}`;
}

/** Said before anything else when the model marked characters (hidden ones or look-alike letters). */
function markedCharactersBlocks(card: CardModel): KnownBlock[] {
  return card.markedCharacters ? [section(`:warning: *${safe(MARKED_CHARACTERS_WARNING.replace(/^⚠ /, ''), 500)}*`)] : [];
}

function statusBlocks(card: CardModel): KnownBlock[] {
  if (card.outcome) {
    const at = card.outcome.at ? ` ${slackDate(card.outcome.at)}` : '';
    return [section(`${outcomeLine(card.outcome, card.status)}${at}`)];
  }
  const blocks: KnownBlock[] = [];
  if (card.expiresAt) blocks.push(context([`:alarm_clock: Expires ${slackDate(card.expiresAt)} if not approved (then refused)`]));
  if (card.actionable) blocks.push(buttons(card));
  return blocks;
}

function buttons(card: CardModel): ActionsBlock {
  const value = card.actionId.slice(0, LIMITS.buttonValue);
  const approve = card.requirement?.approvalReasonRequired ? APPROVE_WITH_REASON_PREFIX : APPROVE_PREFIX;
  return {
    type: 'actions',
    block_id: clip(`countersign:decide:${card.actionId}`, 255),
    elements: [
      { type: 'button', style: 'primary', text: { type: 'plain_text', text: 'Approve' }, action_id: `${approve}${card.actionId}`.slice(0, LIMITS.actionId), value },
      { type: 'button', style: 'danger', text: { type: 'plain_text', text: 'Deny' }, action_id: `${DENY_PREFIX}${card.actionId}`.slice(0, LIMITS.actionId), value },
    ],
  };
}

/** What the card links to; without a public URL the console path is shown as text. */
export interface CardLinks {
  publicUrl?: string;
}

/** The card for one action in its current state. Pure: same model, same blocks. */
export function renderCard(card: CardModel, links: CardLinks = {}): RenderedCard {
  const ruleLine = `Rule: ${card.ruleIds.map((r) => `\`${safe(r, 100)}\``).join(', ') || 'none'}`;
  const reasons = card.reasons.length > 0 ? `Why: ${safe(card.reasons.join('; '), 1000)}` : null;
  const where = card.where.length > 0 ? [section('*Where*'), ...fieldSections(card.where)] : [];
  const blocks: KnownBlock[] = [
    header(card),
    ...markedCharactersBlocks(card),
    ...whatBlocks(card, links),
    whoBlock(card),
    ...where,
    riskBlock(card),
    ...authorityBlocks(card),
    context([ruleLine, ...(reasons ? [reasons] : []), `Action \`${safe(card.actionId, 100)}\``]),
    { type: 'divider' },
    ...decisionBlocks(card),
    ...statusBlocks(card),
  ];
  // Params, where and authority are capped by the model (12 each), so this never bites in
  // practice; if it did, the tail (status and buttons) must survive, so cut from the middle
  // (after the featured fields and the "+N more" line, which come first).
  const fitted = blocks.length <= LIMITS.blocks ? blocks : [...blocks.slice(0, LIMITS.blocks - 4), ...blocks.slice(-3)];
  const progress = card.requirement && !card.outcome ? ` (${card.requirement.filled} of ${card.requirement.needed})` : '';
  const outcome = card.outcome ? `: ${safe(card.outcome.headline, 500)}${card.outcome.reason ? `: ${personWords(card.outcome.reason, 500)}` : ''}` : '';
  // The fallback is mrkdwn too (it becomes the notification): escaped like the blocks.
  return { text: clip(`${STATUS_WORD[card.status]}: ${safe(card.actionType, 200)}, “${safe(card.title, 1000)}”${progress}${outcome}`, LIMITS.fallbackText), blocks: fitted };
}

/** The fallback text of a reminder (the queue words it; we escape it; sent with mrkdwn off). */
export function reminderText(text: string): string {
  return `:bell: ${safe(text, LIMITS.fallbackText - 10)}`;
}

/**
 * A message that quotes caller text outside the card (reminders, notices): the blocks show the
 * queue's words, which quote the agent's summary and people's reasons, as plain_text, and the
 * fallback (the notification) is sent with `mrkdwn: false`, so neither draws formatting.
 */
export interface RenderedNotice extends RenderedCard {
  mrkdwn: false;
}

/** A reminder in the card's thread. */
export function reminderBlocks(text: string): RenderedNotice {
  const shown = displayLine(text);
  return { text: reminderText(shown), blocks: [agentSection(`🔔 ${shown}`)], mrkdwn: false };
}

/** A short DM to a person (the requester's outcome, typically). */
export function noticeBlocks(text: string, card: CardModel): RenderedNotice {
  const outcome = card.outcome ? outcomeLine(card.outcome, card.status) : null;
  const shown = displayLine(text);
  const blocks: KnownBlock[] = [agentSection(shown)];
  if (outcome) blocks.push(section(`${outcome}${card.outcome?.at ? ` ${slackDate(card.outcome.at)}` : ''}`));
  blocks.push({
    type: 'context',
    elements: [
      { type: 'mrkdwn', text: `${code(card.actionType, 200)} · Action \`${safe(card.actionId, 100)}\`` },
      agentText(`The agent says: “${card.title}”`, 500),
    ],
  });
  return { text: safe(shown, LIMITS.fallbackText), blocks, mrkdwn: false };
}
