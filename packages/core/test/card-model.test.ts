import { describe, expect, it } from 'vitest';
import { IntentSchema, RequirementSchema } from '@countersign/contracts';
import type { ActionRecord, DirectoryView } from '../src/index.ts';
import { buildCardModel, callerWords, containsHiddenCharacters, containsLookalikeLetters, MARKED_CHARACTERS_WARNING, REDACTED } from '../src/index.ts';
import { EMPTY_DIRECTORY, hostileAction } from '../../../test/fakes/hostile-intent.ts';
import { HIDDEN_DIRECTORY, hiddenVote, LOOKALIKE_REASON, LOOKALIKE_SHOWN, lookalikeAction, oneScriptAction } from './support/hidden-characters.ts';

const directory: DirectoryView = {
  digest: 'd',
  person: () => undefined,
  principal: () => undefined,
  actorOf: () => undefined,
};

function action(redact: string[]): ActionRecord {
  const intent = IntentSchema.parse({
    action: { type: 'payment.send', resource: 'supplier/acme', params: { amount: 25000, iban: 'DE89370400440532013000', memo: { note: 'q3' } } },
    context: { account: 'acct-991', environment: 'production', attributes: { costCenter: 'cc-7' } },
    authority: { changeTicket: 'CHG-1', clientInstruction: 'pay acme per contract 17' },
    justification: 'invoice INV-42 for contract 17',
  });
  return {
    id: 'act_x', status: 'pending', outcome: 'escalate', actorId: 'finance-bot', actorKind: 'agent', ownerId: 'erin', onBehalfOf: null,
    apiKeyId: 'key_x', intent, intentHash: 'h'.repeat(64), actionType: 'payment.send', policyDigest: 'p', ruleIds: ['r'], reasons: ['why'],
    requirement: RequirementSchema.parse({ groups: [{ role: 'finance-approver', count: 1 }], expiresInSeconds: 600, redact }),
    overrideRoles: [], expiresAt: new Date(), createdAt: new Date(), decidedAt: null, decidedBy: null, decisionReason: null,
    overriddenBy: null, overrideReason: null, idempotencyKey: null, requestHash: null,
  };
}

describe('card model redaction', () => {
  it('shows nothing a rule redacts, in params, context, authority or the justification', () => {
    const card = buildCardModel(action(['params.iban', 'params.memo.note', 'context.account', 'authority.clientInstruction', 'justification']), [], directory);
    const text = JSON.stringify(card);
    for (const secret of ['DE89370400440532013000', 'q3', 'acct-991', 'pay acme per contract 17', 'invoice INV-42']) expect(text).not.toContain(secret);
    expect(card.params).toContainEqual({ key: 'iban', value: REDACTED });
    expect(card.params).toContainEqual({ key: 'amount', value: '25000' });
    expect(card.where).toContainEqual({ key: 'account', value: REDACTED });
    expect(card.authority).toContainEqual({ key: 'clientInstruction', value: REDACTED });
    expect(card.justification).toBe(REDACTED);
  });

  it('shows everything when the rule redacts nothing, and never mutates the stored intent', () => {
    const a = action([]);
    const card = buildCardModel(a, [], directory);
    expect(JSON.stringify(card)).toContain('DE89370400440532013000');
    buildCardModel(action(['params.iban']), [], directory);
    expect(a.intent.action.params.iban).toBe('DE89370400440532013000');
  });
});


describe('card model: nothing that matters is hidden', () => {
  it('shows featured fields first, however many numeric-looking keys come before them, and counts the rest', () => {
    const card = buildCardModel(hostileAction(), [], EMPTY_DIRECTORY);
    expect(card.featured).toEqual([
      { key: 'amount', value: '250000' },
      { key: 'payee', value: '"Mallory Ltd"' },
      { key: 'iban', value: '"GB33BUKB20201555555555"' },
    ]);
    // 50 params: 3 featured + 9 others shown = 12 rows; the other 38 are counted, not dropped.
    expect(card.params).toHaveLength(9);
    expect(card.params.map((p) => p.key)).not.toContain('amount');
    expect(card.moreParams).toBe(38);
    expect(card.featured.length + card.params.length + card.moreParams).toBe(50);
    expect(card.fullRequestPath).toBe('/console/actions/act_hostile');
    expect(card.intentHashPrefix).toBe('3f9a1c0b7e22');
  });

  it('shows params as JSON, text quoted: "false" (or "falsе" with a Cyrillic е) is not false on a card', () => {
    const a = action([]);
    a.intent = { ...a.intent, action: { ...a.intent.action, params: { dryRun: 'false', force: false, count: '3', limit: 3, note: 'keep it', blank: '', cyrillic: 'fals\u0435' } } };
    const shown = Object.fromEntries(buildCardModel(a, [], directory).params.map((p) => [p.key, p.value]));
    expect(shown).toEqual({ dryRun: '"false"', force: 'false', count: '"3"', limit: '3', note: '"keep it"', blank: '""', cyrillic: '"fals⟨U+0435⟩"' });
    // The bare marker is the rule's alone: a caller's text "[redacted]" shows quoted.
    const r = action(['params.iban']);
    r.intent = { ...r.intent, action: { ...r.intent.action, params: { ...r.intent.action.params, memo: '[redacted]' } } };
    const withMarks = Object.fromEntries(buildCardModel(r, [], directory).params.map((p) => [p.key, p.value]));
    expect(withMarks).toMatchObject({ iban: REDACTED, memo: '"[redacted]"' });
  });

  it('names free attributes as such: an attribute called environment is not context.environment', () => {
    const a = action([]);
    a.intent = { ...a.intent, context: { ...a.intent.context, environment: 'staging', attributes: { environment: 'production' } } };
    const card = buildCardModel(a, [], directory);
    expect(card.where).toContainEqual({ key: 'environment', value: 'staging' });
    expect(card.where).toContainEqual({ key: 'attributes.environment', value: '"production"' });
    expect(card.where.filter((w) => w.key === 'environment')).toHaveLength(1);
  });

  it('the bare mark is where the rule hid a value, nowhere else: not a flat key spelt like a redacted path, not a caller\'s "[redacted]"', () => {
    const r = action(['params.card.number', 'context.account']);
    r.intent = {
      ...r.intent,
      action: { ...r.intent.action, params: { card: { number: '4111111111111111' }, 'card.number': 'shown to the approver' } },
      context: { ...r.intent.context, environment: '[redacted]' },
    };
    const card = buildCardModel(r, [], directory);
    expect(card.params).toContainEqual({ key: 'card.number', value: '"shown to the approver"' });
    expect(card.params).toContainEqual({ key: 'card', value: '{"number":"[redacted]"}' });
    expect(card.where).toContainEqual({ key: 'environment', value: '"[redacted]"' });
    expect(card.where).toContainEqual({ key: 'account', value: REDACTED });
  });

  it('a param key mixing Latin with a look-alike letter shows it as a mark: deletеBackups is not deleteBackups', () => {
    const a = action([]);
    a.intent = { ...a.intent, action: { ...a.intent.action, params: { 'delet\u0435Backups': false, deleteBackups: true } } };
    const keys = buildCardModel(a, [], directory).params.map((p) => p.key);
    expect(keys).toEqual(['delet⟨U+0435⟩Backups', 'deleteBackups']);
  });

  it('a value or a name mixing Latin with a look-alike letter shows it as a mark: "рrod" is not "prod", prоd-db is not prod-db', () => {
    const card = buildCardModel(lookalikeAction(), [], HIDDEN_DIRECTORY);
    expect(card.params).toContainEqual({ key: 'target', value: LOOKALIKE_SHOWN.param });
    expect(card.params).toContainEqual({ key: 'note', value: LOOKALIKE_SHOWN.asWritten });
    expect(card.resource).toBe(LOOKALIKE_SHOWN.resource);
    expect(card.title).toBe(LOOKALIKE_SHOWN.summary);
    expect(card.where).toContainEqual({ key: 'environment', value: LOOKALIKE_SHOWN.environment });
    expect(card.where).toContainEqual({ key: 'attributes.region', value: LOOKALIKE_SHOWN.attribute });
    expect(card.who.onBehalfOf).toBe(LOOKALIKE_SHOWN.onBehalfOf);
    expect(card.risk.class).toBe(LOOKALIKE_SHOWN.risk);
    expect(card.justification).toBe(`cleanup\n${LOOKALIKE_SHOWN.justification}`);
    // Display only: the intent the card was built from is as the caller sent it.
    expect(lookalikeAction().intent.action.params).toEqual({ target: '\u0440rod', note: '\u0443\u0434\u0430\u043B\u0438\u0442\u044C env' });
  });

  it('warns (markedCharacters) for a request whose only oddity is a look-alike letter in a Latin word', () => {
    const a = lookalikeAction();
    // Nothing hidden: the look-alikes alone make the warning.
    expect(containsHiddenCharacters([a.intent, a.actorId, a.onBehalfOf, a.reasons])).toBe(false);
    expect(buildCardModel(a, [], HIDDEN_DIRECTORY).markedCharacters).toBe(true);
  });

  it('warns for a look-alike in any caller field the card marks: a key, a nested value, onBehalfOf, the justification', () => {
    const plain = oneScriptAction();
    const withIntent = (change: (i: ActionRecord['intent']) => void): ActionRecord => {
      const a = oneScriptAction();
      change(a.intent);
      return a;
    };
    for (const a of [
      withIntent((i) => (i.action.params = { ...i.action.params, 'delet\u0435Backups': false })),
      withIntent((i) => (i.action.params = { ...i.action.params, opts: { list: ['ok', 'eu-w\u0435st-1'] } })),
      withIntent((i) => (i.authority.attributes = { ticket: 'CHG-\u0440rod' })),
      withIntent((i) => (i.justification = 'fine\nfor \u0440rod')),
      { ...plain, onBehalfOf: 'fr\u0430nk' },
    ]) {
      expect(buildCardModel(a, [], HIDDEN_DIRECTORY).markedCharacters).toBe(true);
    }
  });

  it('does not warn for words in one script, a look-alike only in a vote reason, or one the card does not show', () => {
    const plain = oneScriptAction();
    const card = buildCardModel(plain, [], HIDDEN_DIRECTORY);
    expect(card.markedCharacters).toBe(false);
    expect(JSON.stringify(card)).not.toContain('⟨U+');
    // People's words are shown as written (not marked), so they are not warned about either.
    const voted = buildCardModel(plain, [hiddenVote(LOOKALIKE_REASON)], HIDDEN_DIRECTORY);
    expect(voted.votes[0]!.reason).toBe(LOOKALIKE_REASON);
    expect(voted.markedCharacters).toBe(false);
    // A value the rule redacts is not shown, nor is the callback URL: nothing marked, no warning.
    const redacted = oneScriptAction();
    redacted.intent.action.params = { ...redacted.intent.action.params, secret: '\u0440rod' };
    redacted.requirement = { ...redacted.requirement!, redact: ['params.secret'] };
    expect(buildCardModel(redacted, [], HIDDEN_DIRECTORY).markedCharacters).toBe(false);
    const callback = oneScriptAction();
    callback.intent.callbackUrl = 'https://hooks.example/\u0440rod';
    expect(buildCardModel(callback, [], HIDDEN_DIRECTORY).markedCharacters).toBe(false);
    expect(containsLookalikeLetters(callerWords(callback.intent, null))).toBe(false);
    expect(containsLookalikeLetters({ a: ['x', { ['k\u0435y']: 1 }] })).toBe(true);
  });

  it('says both things in its warning, short enough for a Slack section, holding no look-alike itself', () => {
    expect(MARKED_CHARACTERS_WARNING).toContain('hidden or control characters');
    expect(MARKED_CHARACTERS_WARNING).toContain('look like Latin ones');
    expect(MARKED_CHARACTERS_WARNING.length).toBeLessThanOrEqual(500);
    expect(containsLookalikeLetters(MARKED_CHARACTERS_WARNING)).toBe(false);
    expect(containsHiddenCharacters(MARKED_CHARACTERS_WARNING)).toBe(false);
  });

  it('a rule redacting all of the attributes: one redacted row, not one row per character of the mark', () => {
    const card = buildCardModel(action(['context.attributes']), [], directory);
    expect(card.where).toContainEqual({ key: 'attributes', value: REDACTED });
    expect(card.where.map((w) => w.key)).toEqual(['environment', 'account', 'attributes']);
  });

  it('cuts long values visibly, saying how much is missing', () => {
    const card = buildCardModel(hostileAction({ feature: ['params.note'] }), [], EMPTY_DIRECTORY);
    expect(card.featured).toEqual([{ key: 'note', value: `"${'x'.repeat(199)}…(+1,236 chars)` }]);
  });

  it('redacts before featuring: a featured, redacted field shows as redacted', () => {
    const card = buildCardModel(hostileAction({ redact: ['params.iban'] }), [], EMPTY_DIRECTORY);
    expect(card.featured).toContainEqual({ key: 'iban', value: REDACTED });
    expect(JSON.stringify(card)).not.toContain('GB33BUKB20201555555555');
  });
});
