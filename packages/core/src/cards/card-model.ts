import { callerLine, callerText, displayLine, hasHiddenCharacters, hasLookalikeLetters, keyText, valueLine, type ActionStatus, type Intent, type RoleGroup } from '@countersign/contracts';
import type { ActionRecord, VoteRecord } from '../action.ts';
import type { DirectoryView } from '../config-view.ts';
import { describeOpen, progress } from '../slots.ts';
import { REDACTED, redactIntent } from './redact.ts';

/**
 * Everything an approval card shows, independent of Slack or Teams. Channels render it
 * (Block Kit, Adaptive Cards); they never decide what to show or hide.
 *
 * Every text that callers or people wrote (the intent's values and keys, names, reasons) is
 * already in display form here: hidden, control and bidi characters are ⟨U+XXXX⟩ marks, and
 * one-line fields show a line break as " ⏎ " (`displayLine`), so no channel can show a value
 * other than it is, or a reason that starts a line of the card's own. What the caller wrote (the
 * intent's text, keys and values, `onBehalfOf`) also shows the Cyrillic, Greek or Armenian letters
 * of a word that mixes them with Latin ones as marks (`callerLine`, `valueLine`: "⟨U+0440⟩rod" is
 * not "prod"); people's words (votes, reasons) and the directory's names, which no downstream
 * acts on, are shown as written. Display only: the stored and hashed intent is untouched.
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
  /**
   * Final outcome, null while pending. `text` is the whole line, e.g. "Denied by Bob (bob): not
   * today"; `headline` is its part in countersign's words ("Denied by Bob (bob)") and `reason` the
   * person's words in it (deny, cancel or override reason), so that a channel can show those as
   * the person's, inert, never as its own markup.
   */
  outcome: { status: ActionStatus; by: string | null; at: string | null; text: string; headline: string; reason: string | null } | null;
  /** Approve / Deny buttons are shown only while pending. */
  actionable: boolean;
  /**
   * Something shown is marked (⟨U+XXXX⟩): it holds characters a reader would not see, or the
   * caller's words (`callerWords`) mix look-alike letters into Latin words. The card says so, in
   * MARKED_CHARACTERS_WARNING's words, before the marks can be overlooked.
   */
  markedCharacters: boolean;
}

/**
 * The warning every channel (Slack, Teams, the console, the CLI) shows when a card or page holds
 * marks, of either kind. Its example is written so that it holds no look-alike itself (the lone
 * Cyrillic р is a word of one script; “prod” is Latin).
 */
export const MARKED_CHARACTERS_WARNING =
  '⚠ This request contains hidden or control characters (invisible, or reordering the text around them), or letters from another alphabet that look like Latin ones (a Cyrillic р in “prod” shows as “⟨U+0440⟩rod”). They are shown as ⟨U+…⟩ marks; read the marked values with care.';

/** Whether any string in `value` (object keys too, at any depth) holds a hidden character. */
export function containsHiddenCharacters(value: unknown): boolean {
  if (typeof value === 'string') return hasHiddenCharacters(value);
  if (Array.isArray(value)) return value.some(containsHiddenCharacters);
  if (value && typeof value === 'object') return Object.entries(value).some(([k, v]) => hasHiddenCharacters(k) || containsHiddenCharacters(v));
  return false;
}

/**
 * Whether any string in `value` (object keys too, at any depth) has a word mixing Latin letters
 * with Cyrillic, Greek or Armenian ones: what callerLine, callerText, keyText and valueLine mark.
 */
export function containsLookalikeLetters(value: unknown): boolean {
  if (typeof value === 'string') return hasLookalikeLetters(value);
  if (Array.isArray(value)) return value.some(containsLookalikeLetters);
  if (value && typeof value === 'object') return Object.entries(value).some(([k, v]) => hasLookalikeLetters(k) || containsLookalikeLetters(v));
  return false;
}

/**
 * What cards and pages show with look-alike letters marked: the caller's words, the intent as
 * approvers see it (redacted: what a rule hides is not shown) but its `callbackUrl`, which no card
 * or page shows, and `onBehalfOf`. People's words and the directory's names are shown as written,
 * so they are not here. For `containsLookalikeLetters`, so that a warning comes with every mark.
 */
export function callerWords(intent: Intent | null | undefined, onBehalfOf: string | null | undefined): unknown[] {
  if (!intent) return [onBehalfOf];
  const { callbackUrl: _notShown, ...shown } = intent;
  return [shown, onBehalfOf];
}

const MAX_PARAMS = 12;
const MAX_VALUE = 200;
const HASH_PREFIX = 12;

/** Cut visibly: the reader sees that, and how much, is missing. (Callers mark hidden characters first.) */
export function cutValue(text: string, max = MAX_VALUE): string {
  if (text.length <= max) return text;
  return `${text.slice(0, max)}…(+${(text.length - max).toLocaleString('en-US')} chars)`;
}

/**
 * A name as the directory has it, else the id, one line. `caller`: the id is the caller's word
 * (`onBehalfOf`), its look-alike letters marked (the directory's name is shown as written).
 */
function display(directory: DirectoryView, id: string | null, caller = false): string | null {
  if (!id) return null;
  const p = directory.principal(id);
  const shownId = caller ? callerLine(id) : displayLine(id);
  return p ? `${displayLine(p.name)} (${shownId})` : shownId;
}

/** A person's words (a vote's, deny, cancel or override reason): one line, marks shown. */
function words(text: string | null): string | null {
  return text === null ? null : displayLine(text);
}

/** A caller's text on one line, marked before it is cut, so what is cut is what is shown. */
function short(text: string): string {
  return cutValue(callerLine(text));
}

/**
 * A value whose type the caller chose (a param, an attribute), as JSON: text quoted, so the
 * text "false" (or "falsе" with a Cyrillic е) never looks like the boolean false, which a
 * downstream treats the other way. A value the rule redacts shows the bare marker, which no
 * caller's text can then imitate (theirs would be quoted).
 */
function freeValue(value: unknown, hidden: boolean): string {
  return hidden ? REDACTED : cutValue(valueLine(value));
}

/**
 * Whether the rule hid the value at `path`: the path is one it redacts and the copy holds the
 * mark there. A flat key spelt like a redacted nested path (`"card.number"` beside a redacted
 * `params.card.number`) is the caller's own value, shown.
 */
function isHidden(redacted: ReadonlySet<string>, path: string, value: unknown): boolean {
  return value === REDACTED && redacted.has(path);
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
function paramRows(params: Record<string, unknown>, feature: string[], redacted: ReadonlySet<string>): Pick<CardModel, 'featured' | 'params' | 'moreParams'> {
  const featured: CardModel['featured'] = [];
  const featuredTop = new Set<string>();
  for (const spec of feature) {
    const at = paramAt(params, spec);
    if (!at.found) continue;
    const key = spec.slice('params.'.length);
    featured.push({ key: keyText(key), value: freeValue(at.value, isHidden(redacted, spec, at.value)) });
    // A featured top-level key is not listed again; a featured nested field leaves its parent listed.
    if (!key.includes('.')) featuredTop.add(key);
  }
  const rest = Object.entries(params)
    .filter(([key, value]) => value !== undefined && !featuredTop.has(key))
    .map(([key, value]) => ({ key: keyText(key), value: freeValue(value, isHidden(redacted, `params.${key}`, value)) }));
  const room = Math.max(0, MAX_PARAMS - featured.length);
  return { featured, params: rest.slice(0, room), moreParams: Math.max(0, rest.length - room) };
}

/**
 * A section's named fields (context, authority: text by the intent's schema, shown as written)
 * and then its free attributes, named `attributes.X`: an attribute called `environment` is not
 * the `context.environment` that policy reads, and must not look like it.
 */
/** A named field's text as written; the bare mark only where the rule hid it, else quoted. */
function namedValue(value: unknown, hidden: boolean): string {
  if (hidden) return REDACTED;
  return typeof value === 'string' && value !== REDACTED ? short(value) : cutValue(valueLine(value));
}

function sectionRows(section: Record<string, unknown>, name: 'context' | 'authority', redacted: ReadonlySet<string>): { key: string; value: string }[] {
  const rows = Object.entries(section)
    .filter(([key, value]) => key !== 'attributes' && value !== undefined)
    .map(([key, value]) => ({ key: displayLine(key), value: namedValue(value, isHidden(redacted, `${name}.${key}`, value)) }));
  const attributes = section.attributes;
  if (isHidden(redacted, `${name}.attributes`, attributes)) return [...rows, { key: 'attributes', value: REDACTED }];
  if (!attributes || typeof attributes !== 'object') return rows;
  for (const [key, value] of Object.entries(attributes)) {
    if (value !== undefined) rows.push({ key: `attributes.${keyText(key)}`, value: freeValue(value, isHidden(redacted, `${name}.attributes.${key}`, value)) });
  }
  return rows;
}

function outcomeText(a: ActionRecord, directory: DirectoryView): string {
  const by = display(directory, a.decidedBy);
  switch (a.status) {
    case 'approved':
      if (a.overriddenBy && a.decidedBy === 'policy') return `Approved by override of ${display(directory, a.overriddenBy)}: ${words(a.overrideReason) ?? ''}`;
      // An override that handed the action to escalation: the approvers decided.
      if (a.overriddenBy) return `Approved by ${by} (refusal overridden by ${display(directory, a.overriddenBy)}: ${words(a.overrideReason) ?? ''})`;
      return `Approved${a.decidedBy === 'policy' ? ' by policy' : ` by ${by}`}`;
    case 'refused':
      if (a.decidedBy === 'policy') return 'Refused by policy';
      if (a.decidedBy === 'system') return `Refused by countersign${a.decisionReason ? `: ${words(a.decisionReason)}` : ''}`;
      return `Denied by ${by}${a.decisionReason ? `: ${words(a.decisionReason)}` : ''}`;
    case 'expired':
      return 'Expired: not approved in time, so refused';
    case 'cancelled':
      return `Cancelled by the requester${a.decisionReason ? `: ${words(a.decisionReason)}` : ''}`;
    default:
      return 'Pending';
  }
}

/** The outcome line split into countersign's words and the person's (see CardModel.outcome). */
function outcomeParts(a: ActionRecord, directory: DirectoryView): { headline: string; reason: string | null } {
  const by = display(directory, a.decidedBy);
  if (a.status === 'approved' && a.overriddenBy) {
    const overrider = display(directory, a.overriddenBy);
    const headline = a.decidedBy === 'policy' ? `Approved by override of ${overrider}` : `Approved by ${by} (refusal overridden by ${overrider})`;
    return { headline, reason: words(a.overrideReason) };
  }
  if (a.status === 'refused' && a.decidedBy === 'system') return { headline: 'Refused by countersign', reason: words(a.decisionReason) || null };
  if (a.status === 'refused' && a.decidedBy !== 'policy') return { headline: `Denied by ${by}`, reason: words(a.decisionReason) || null };
  if (a.status === 'cancelled') return { headline: 'Cancelled by the requester', reason: words(a.decisionReason) || null };
  return { headline: outcomeText(a, directory), reason: null };
}

export function buildCardModel(a: ActionRecord, votes: VoteRecord[], directory: DirectoryView): CardModel {
  // Everything below reads the redacted copy: a field the rule redacts never reaches a card.
  const intent: Intent = redactIntent(a.intent, a.requirement?.redact ?? []);
  const redacted = new Set(a.requirement?.redact ?? []);
  const rows = paramRows(intent.action.params ?? {}, a.requirement?.feature ?? [], redacted);
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
    title: callerLine(intent.action.summary ?? `${intent.action.type}${intent.action.resource ? ` on ${intent.action.resource}` : ''}`),
    actionType: displayLine(intent.action.type),
    resource: intent.action.resource === undefined ? null : callerLine(intent.action.resource),
    ...rows,
    fullRequestPath: `/console/actions/${encodeURIComponent(a.id)}`,
    intentHashPrefix: a.intentHash.slice(0, HASH_PREFIX),
    who: {
      actor: display(directory, a.actorId) ?? displayLine(a.actorId),
      actorKind: a.actorKind,
      owner: display(directory, a.ownerId),
      onBehalfOf: display(directory, a.onBehalfOf, true),
    },
    where: sectionRows(intent.context as Record<string, unknown>, 'context', redacted),
    risk: { class: intent.risk.class === undefined ? null : callerLine(intent.risk.class), urgency: words(intent.risk.urgency ?? null) },
    authority: sectionRows(intent.authority as Record<string, unknown>, 'authority', redacted),
    // Several lines are the justification's own: kept, every hidden character and mixed word's
    // look-alike letter marked (the agent's words, which the approver weighs the request by).
    justification: intent.justification === undefined ? null : callerText(intent.justification),
    ruleIds: a.ruleIds.map(displayLine),
    reasons: a.reasons.map(displayLine),
    requirement,
    votes: votes.map((v) => ({
      person: display(directory, v.personId) ?? displayLine(v.personId),
      decision: v.decision,
      reason: words(v.reason),
      channel: displayLine(v.channel),
      at: v.createdAt.toISOString(),
    })),
    expiresAt: a.expiresAt?.toISOString() ?? null,
    outcome:
      a.status === 'pending'
        ? null
        : { status: a.status, by: a.overriddenBy ?? a.decidedBy, at: decidedAt?.toISOString() ?? null, text: outcomeText(a, directory), ...outcomeParts(a, directory) },
    actionable: a.status === 'pending',
    markedCharacters:
      containsHiddenCharacters([intent, a.actorId, a.onBehalfOf, a.reasons, a.decisionReason, a.overrideReason, votes.map((v) => v.reason)]) ||
      containsLookalikeLetters(callerWords(intent, a.onBehalfOf)),
  };
}
