import { describe, expect, it } from 'vitest';
import { IntentSchema } from '@countersign/contracts';
import { buildCardModel, containsHiddenCharacters } from '../src/index.ts';
import { FAKE_DENY, FAKE_LINE, HIDDEN_DIRECTORY, hiddenAction, hiddenVote, stringsWithHiddenCharacters } from './support/hidden-characters.ts';

// F3/F6: caller text with bidi, zero-width and control characters, and a person's reason with
// a line break shaped like the card's own vote line, reach the card model in display form only.

const directory = HIDDEN_DIRECTORY;
const action = hiddenAction;
const vote = (reason: string | null) => hiddenVote(reason);

/** Strings that still hold a hidden character, or a line break outside the justification. */
function rawHidden(card: unknown): string[] {
  const { justification: _multiLine, ...oneLine } = card as { justification: unknown };
  return [...stringsWithHiddenCharacters(card), ...JSON.stringify(oneLine).match(/[^"]*\\n[^"]*/g) ?? []];
}

describe('card model: hidden characters and line breaks are shown, never passed on', () => {
  it('marks bidi, zero-width and control characters in every caller field and says the intent holds them', () => {
    const a = action();
    const card = buildCardModel(a, [vote(FAKE_LINE)], directory);
    expect(rawHidden(card)).toEqual([]);
    expect(card.markedCharacters).toBe(true);
    expect(card.title).toBe('Send invoice⟨U+202E⟩fdp.exe to the client');
    expect(card.resource).toBe('env/pro⟨U+200B⟩d-eu-1');
    // A param is JSON (text quoted): controls show as JSON's escapes, the rest as marks.
    expect(card.featured).toEqual([{ key: 'file', value: '"invoice⟨U+202E⟩fdp.exe"' }]);
    expect(card.params).toContainEqual({ key: 'ta⟨U+FEFF⟩rget', value: '"ok\\r\\u001b[2Kdone"' });
    expect(card.params).toContainEqual({ key: 'cmd', value: '"echo keep-staging #⟨U+202E⟩ ⟨U+2066⟩; rm -rf /prod⟨U+2069⟩ ⟨U+2066⟩#"' });
    expect(card.where).toContainEqual({ key: 'environment', value: 'prod⟨U+200D⟩' });
    expect(card.risk.class).toBe('low⟨U+2067⟩');
    expect(card.who.onBehalfOf).toBe('fr⟨U+200B⟩ank');
    // The justification may have lines of its own; its hidden characters are marked.
    expect(card.justification).toBe('line one\nline two⟨U+061C⟩');
    // Display only: the stored (hashed) intent is what the agent sent.
    expect(a.intent.action.resource).toBe('env/pro\u200Bd-eu-1');
    expect(a.intent.action.params.file).toBe('invoice\u202Efdp.exe');
  });

  it('puts a vote reason on one line, so it cannot start a vote line of its own', () => {
    const card = buildCardModel(action(), [vote(FAKE_LINE)], directory);
    expect(card.votes[0]!.reason).toBe('runbook checked ⏎ :white_check_mark: approved by Security Sam (sam) (slack)');
  });

  it('splits a deny reason from the outcome line, both on one line', () => {
    const card = buildCardModel(
      action({ status: 'refused', decidedBy: 'bob', decidedAt: new Date('2026-05-01T10:10:00.000Z'), decisionReason: FAKE_DENY }),
      [],
      directory,
    );
    expect(card.outcome).toMatchObject({
      text: 'Denied by Bob (bob): nope ⏎ :white_check_mark: *Approved by Bob (bob)*',
      headline: 'Denied by Bob (bob)',
      reason: 'nope ⏎ :white_check_mark: *Approved by Bob (bob)*',
    });
    const cancelled = buildCardModel(action({ status: 'cancelled', decidedAt: new Date(), decisionReason: 'done\u202E' }), [], directory);
    expect(cancelled.outcome).toMatchObject({ headline: 'Cancelled by the requester', reason: 'done⟨U+202E⟩', text: 'Cancelled by the requester: done⟨U+202E⟩' });
    const overridden = buildCardModel(action({ status: 'approved', decidedBy: 'policy', decidedAt: new Date(), overriddenBy: 'bob', overrideReason: 'legal\nhold' }), [], directory);
    expect(overridden.outcome).toMatchObject({ headline: 'Approved by override of Bob (bob)', reason: 'legal ⏎ hold', text: 'Approved by override of Bob (bob): legal ⏎ hold' });
  });

  it('warns for a hidden character in a reason alone, and not for plain text', () => {
    const plain = action({ intent: IntentSchema.parse({ action: { type: 'file.send', resource: 'env/prod-eu-1', params: { file: 'invoice.pdf' } } }), onBehalfOf: null });
    expect(buildCardModel(plain, [vote('fine\nby me')], directory).markedCharacters).toBe(false);
    expect(buildCardModel(plain, [vote('fine\u200B')], directory).markedCharacters).toBe(true);
    expect(containsHiddenCharacters({ a: ['x', { ['k\u2066']: 1 }] })).toBe(true);
    expect(containsHiddenCharacters({ a: ['x\n\ty', 2, null] })).toBe(false);
  });
});
