import { hasHiddenCharacters, IntentSchema, RequirementSchema } from '@countersign/contracts';
import type { ActionRecord, DirectoryView, VoteRecord } from '../../src/index.ts';

// An intent whose values hide what they are (F3: a bidi override, zero-width characters, a
// carriage return and an escape sequence, in values, a key, the resource and the summary), and
// a vote reason whose line break would draw a vote line of the card's own (F6). Shared by the
// card model's test and the Slack, Teams and console renderers' tests.

export const FAKE_LINE = 'runbook checked\n:white_check_mark: approved by Security Sam (sam) (slack)';
export const FAKE_DENY = 'nope\r\n:white_check_mark: *Approved by Bob (bob)*';

export const HIDDEN_DIRECTORY: DirectoryView = {
  digest: 'd',
  person: () => undefined,
  principal: (id: string) => ({ bob: { name: 'Bob' }, alice: { name: 'Alice' } })[id] as never,
  actorOf: () => undefined,
};

export function hiddenAction(overrides: Partial<ActionRecord> = {}): ActionRecord {
  const intent = IntentSchema.parse({
    action: {
      type: 'file.send',
      resource: 'env/prod-eu-1',
      summary: 'Send invoice\u202Efdp.exe to the client',
      params: { file: 'invoice\u202Efdp.exe', 'ta\uFEFFrget': 'ok\r\u001b[2Kdone', cmd: 'echo keep-staging #\u202E \u2066; rm -rf /prod\u2069 \u2066#' },
    },
    context: { environment: 'prod' },
    risk: { class: 'low' },
    justification: 'line one\nline two\u061C',
  });
  // Names policy matches refuse such characters at submission (intent.ts); a stored action
  // holding them anyway (written before that rule) is still shown marked.
  intent.action.resource = 'env/pro\u200Bd-eu-1';
  intent.context.environment = 'prod\u200D';
  intent.risk.class = 'low\u2067';
  return {
    id: 'act_h', status: 'pending', outcome: 'escalate', actorId: 'send-bot', actorKind: 'agent', ownerId: null, onBehalfOf: 'fr\u200Bank',
    apiKeyId: 'key_x', intent, intentHash: 'h'.repeat(64), actionType: 'file.send', policyDigest: 'p', ruleIds: ['r'], reasons: ['why'],
    requirement: RequirementSchema.parse({ groups: [{ role: 'sre', count: 2 }], expiresInSeconds: 600, feature: ['params.file'] }),
    overrideRoles: [], expiresAt: new Date('2026-05-01T10:30:00.000Z'), createdAt: new Date('2026-05-01T10:00:00.000Z'), decidedAt: null, decidedBy: null,
    decisionReason: null, overriddenBy: null, overrideReason: null, idempotencyKey: null, requestHash: null,
    ...overrides,
  };
}

/**
 * An action whose text is all visible but mixes look-alike letters into Latin words: a param
 * value "рrod" (Cyrillic р, U+0440), a resource "prоd-db" (Cyrillic о, U+043E), and the same in the
 * summary, the environment, an attribute, onBehalfOf, the risk class and the justification. Beside them, words
 * wholly in Cyrillic and words of two scripts side by side, which are shown as written.
 */
export function lookalikeAction(): ActionRecord {
  const intent = IntentSchema.parse({
    onBehalfOf: 'fr\u0430nk',
    action: {
      type: 'db.drop',
      resource: 'pr\u043Ed-db',
      summary: 'Drop pr\u043Ed-db (\u0443\u0434\u0430\u043B\u0438\u0442\u044C staging)',
      params: { target: '\u0440rod', note: '\u0443\u0434\u0430\u043B\u0438\u0442\u044C env' },
    },
    context: { environment: '\u0440rod', attributes: { region: 'eu-w\u0435st-1' } },
    risk: { class: 'l\u043Ew' },
    justification: 'cleanup\nof \u0440rod',
  });
  return hiddenAction({ intent, onBehalfOf: intent.onBehalfOf ?? null, actionType: 'db.drop', requirement: RequirementSchema.parse({ groups: [{ role: 'sre', count: 2 }], expiresInSeconds: 600 }) });
}

/** What `lookalikeAction` shows, marked, wherever it is shown. */
export const LOOKALIKE_SHOWN = {
  param: '"⟨U+0440⟩rod"',
  resource: 'pr⟨U+043E⟩d-db',
  summary: 'Drop pr⟨U+043E⟩d-db (\u0443\u0434\u0430\u043B\u0438\u0442\u044C staging)',
  environment: '⟨U+0440⟩rod',
  attribute: '"eu-w⟨U+0435⟩st-1"',
  onBehalfOf: 'fr⟨U+0430⟩nk',
  risk: 'l⟨U+043E⟩w',
  justification: 'of ⟨U+0440⟩rod',
  asWritten: '"\u0443\u0434\u0430\u043B\u0438\u0442\u044C env"',
};

/**
 * A person's reason holding a mixed word ("рrod" with a Cyrillic р): people's words are shown as
 * written (no downstream acts on them), so it is neither marked nor warned about.
 */
export const LOOKALIKE_REASON = 'checked \u0440rod';

/**
 * Like `lookalikeAction` but every word in one script, or two scripts side by side ("удалить",
 * "Удалить env"): nothing is marked, and no warning is given.
 */
export function oneScriptAction(): ActionRecord {
  const intent = IntentSchema.parse({
    action: {
      type: 'db.drop',
      resource: 'prod-db',
      summary: '\u0423\u0434\u0430\u043B\u0438\u0442\u044C prod-db',
      params: { target: 'prod', note: '\u0443\u0434\u0430\u043B\u0438\u0442\u044C env', '\u0431\u0430\u0437\u0430': '\u03B4\u03AD\u03BB\u03C4\u03B1' },
    },
    context: { environment: 'prod', attributes: { region: '\u0437\u0430\u043F\u0430\u0434 eu-west-1' } },
    risk: { class: 'low' },
    justification: 'cleanup\n\u0443\u0434\u0430\u043B\u0438\u0442\u044C staging',
  });
  return hiddenAction({ intent, onBehalfOf: null, actionType: 'db.drop', requirement: RequirementSchema.parse({ groups: [{ role: 'sre', count: 2 }], expiresInSeconds: 600 }) });
}

/** A refused `hiddenAction`: Bob denied it with FAKE_DENY. */
export function deniedAction(): ActionRecord {
  return hiddenAction({ status: 'refused', decidedBy: 'bob', decidedAt: new Date('2026-05-01T10:10:00.000Z'), decisionReason: FAKE_DENY });
}

export function hiddenVote(reason: string | null, personId = 'alice'): VoteRecord {
  return { id: `v-${personId}`, actionId: 'act_h', personId, decision: 'approve', reason, channel: 'slack', roles: ['sre'], createdAt: new Date('2026-05-01T10:05:00.000Z') };
}

/** Every string in `value` (keys too) that holds a character a reader would not see. */
export function stringsWithHiddenCharacters(value: unknown, allow: (s: string) => string = (s) => s): string[] {
  const out: string[] = [];
  const walk = (x: unknown): void => {
    if (typeof x === 'string') {
      if (hasHiddenCharacters(allow(x))) out.push(x);
    } else if (Array.isArray(x)) x.forEach(walk);
    else if (x && typeof x === 'object') Object.entries(x).forEach(([k, v]) => (walk(k), walk(v)));
  };
  walk(value);
  return out;
}
