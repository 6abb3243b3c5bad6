import { describe, expect, it } from 'vitest';
import { buildCardModel, MARKED_CHARACTERS_WARNING } from '@countersign/core';
import { buildAdaptiveCard } from '../src/cards/adaptive-card.ts';
import { validateAdaptiveCard } from './validate-card.ts';
import {
  deniedAction,
  FAKE_LINE,
  HIDDEN_DIRECTORY,
  hiddenAction,
  hiddenVote,
  LOOKALIKE_REASON,
  LOOKALIKE_SHOWN,
  lookalikeAction,
  oneScriptAction,
  stringsWithHiddenCharacters,
} from '../../../packages/core/test/support/hidden-characters.ts';
import { texts } from './card-texts.ts';

// F3: what an intent hides (bidi override, zero-width, CR, ESC) is shown as ⟨U+XXXX⟩ marks on
// the Teams card, with a warning. F6: an approver's reason can draw neither a line nor
// Markdown of the card's own for the next approver.

type Json = Record<string, unknown>;

// The card's own link-breaker (a zero-width space after each "]" in Markdown) is not the caller's.
const withoutLinkBreaks = (s: string) => s.replaceAll(']\u200B', ']');

describe('Teams card: hidden characters are marked, with a warning', () => {
  const card = buildAdaptiveCard(buildCardModel(hiddenAction(), [hiddenVote(FAKE_LINE)], HIDDEN_DIRECTORY));
  const { markdown, runs } = texts(card);

  it('is valid and carries no hidden character', () => {
    expect(validateAdaptiveCard(card as never)).toEqual([]);
    expect(stringsWithHiddenCharacters(card, withoutLinkBreaks)).toEqual([]);
  });

  it('shows each one as a mark where it was', () => {
    const all = [...markdown, ...runs].join('\n');
    for (const shown of [
      'invoice⟨U+202E⟩fdp.exe',
      'env/pro⟨U+200B⟩d-eu-1',
      // A param is JSON (text quoted): its controls show as JSON's escapes.
      '"ok\\r\\u001b[2Kdone"',
      'echo keep-staging #⟨U+202E⟩ ⟨U+2066⟩; rm -rf /prod⟨U+2069⟩ ⟨U+2066⟩#',
      'ta⟨U+FEFF⟩rget',
      'prod⟨U+200D⟩',
      'fr⟨U+200B⟩ank',
      'low⟨U+2067⟩',
    ]) {
      expect(all).toContain(shown);
    }
  });

  it('warns on top, and only when there is something marked', () => {
    const body = (card as { body: Json[] }).body;
    expect(body[1]).toMatchObject({ type: 'Container', style: 'warning' });
    expect(JSON.stringify(body[1])).toContain(MARKED_CHARACTERS_WARNING);
    const none = buildAdaptiveCard({ ...buildCardModel(hiddenAction(), [], HIDDEN_DIRECTORY), markedCharacters: false });
    expect(JSON.stringify(none)).not.toContain('hidden or control characters');
  });
});

describe('Teams card: a look-alike letter in a Latin word is marked, in values as in keys', () => {
  it('shows "рrod" (Cyrillic р) and prоd-db (Cyrillic о) marked, words in one script as written', () => {
    const card = buildAdaptiveCard(buildCardModel(lookalikeAction(), [], HIDDEN_DIRECTORY));
    expect(validateAdaptiveCard(card as never)).toEqual([]);
    const { markdown, runs } = texts(card);
    const all = [...markdown, ...runs].join('\n');
    for (const shown of Object.values(LOOKALIKE_SHOWN)) expect(all).toContain(shown);
    expect(all).not.toContain('\u0440rod');
    expect(all).not.toContain('pr\u043Ed-db');
  });

  it('warns on top for look-alikes alone, and not for words in one script or a look-alike in a reason', () => {
    const body = (buildAdaptiveCard(buildCardModel(lookalikeAction(), [], HIDDEN_DIRECTORY)) as { body: Json[] }).body;
    expect(body[1]).toMatchObject({ type: 'Container', style: 'warning' });
    expect(JSON.stringify(body[1])).toContain(MARKED_CHARACTERS_WARNING);
    const plain = buildAdaptiveCard(buildCardModel(oneScriptAction(), [hiddenVote(LOOKALIKE_REASON)], HIDDEN_DIRECTORY));
    expect(validateAdaptiveCard(plain as never)).toEqual([]);
    expect(JSON.stringify(plain)).not.toContain(MARKED_CHARACTERS_WARNING);
  });
});

describe("Teams card: a person's reason stays their words", () => {
  it('cannot draw a vote line of its own: a quoted TextRun on one line, never Markdown', () => {
    const card = buildAdaptiveCard(buildCardModel(hiddenAction(), [hiddenVote(FAKE_LINE)], HIDDEN_DIRECTORY));
    expect(validateAdaptiveCard(card as never)).toEqual([]);
    const { markdown, runs } = texts(card);
    expect(markdown.join('\n')).not.toContain('Security Sam');
    expect(runs).toContain('✅ approved by Alice (alice) via slack, 2026-05-01 10:05 UTC');
    expect(runs).toContain(': “runbook checked ⏎ :white_check_mark: approved by Security Sam (sam) (slack)”');
    // Only the justification keeps lines of its own (the agent's, quoted as theirs).
    expect(runs.filter((r) => r.includes('\n'))).toEqual(['“line one\nline two⟨U+061C⟩”']);
  });

  it('keeps a deny reason in the outcome inert and on one line', () => {
    const card = buildAdaptiveCard(buildCardModel(deniedAction(), [], HIDDEN_DIRECTORY));
    expect(validateAdaptiveCard(card as never)).toEqual([]);
    const { markdown, runs } = texts(card);
    expect(markdown.join('\n')).not.toContain('Approved by Bob');
    expect(runs).toContain('Denied by Bob (bob): nope ⏎ :white_check_mark: *Approved by Bob (bob)* · 2026-05-01 10:10 UTC');
    expect(stringsWithHiddenCharacters(card, withoutLinkBreaks)).toEqual([]);
  });
});
