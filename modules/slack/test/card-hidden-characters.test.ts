import { describe, expect, it } from 'vitest';
import { buildCardModel, MARKED_CHARACTERS_WARNING } from '@countersign/core';
import { noticeBlocks, renderCard } from '../src/blocks/card-blocks.ts';
import { blocksProblem } from '../../../test/fakes/slack-api.ts';
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
import { textObjects } from './text-objects.ts';

// F3: what an intent hides (bidi override, zero-width, CR, ESC) is shown as ⟨U+XXXX⟩ marks on
// the Slack card, with a warning. F6: an approver's reason can draw neither a line nor markup
// of the card's own for the next approver.

/** The lines Slack draws from mrkdwn texts. */
const mrkdwnLines = (blocks: unknown) => textObjects(blocks).filter((t) => t.type === 'mrkdwn').flatMap((t) => t.text.split('\n'));

describe('Slack card: hidden characters are marked, with a warning', () => {
  const card = renderCard(buildCardModel(hiddenAction(), [hiddenVote(FAKE_LINE)], HIDDEN_DIRECTORY));

  it('carries no hidden character, in the blocks or the fallback text', () => {
    expect(blocksProblem(card.blocks as unknown as Record<string, unknown>[])).toBeNull();
    expect(stringsWithHiddenCharacters(card)).toEqual([]);
  });

  it('shows each one as a mark where it was', () => {
    const all = textObjects(card.blocks).map((t) => t.text).join('\n');
    for (const shown of [
      'invoice⟨U+202E⟩fdp.exe',
      'env/pro⟨U+200B⟩d-eu-1',
      // A param is JSON (text quoted): its controls show as JSON's escapes.
      'ta⟨U+FEFF⟩rget:\n"ok\\r\\u001b[2Kdone"',
      'echo keep-staging #⟨U+202E⟩ ⟨U+2066⟩; rm -rf /prod⟨U+2069⟩ ⟨U+2066⟩#',
      'prod⟨U+200D⟩',
      'fr⟨U+200B⟩ank',
    ]) {
      expect(all).toContain(shown);
    }
    expect(card.text).toContain('invoice⟨U+202E⟩fdp.exe');
  });

  it('warns right under the heading', () => {
    expect(card.blocks[1]).toMatchObject({ type: 'section', text: { type: 'mrkdwn' } });
    expect(textObjects(card.blocks[1])[0]!.text).toContain(MARKED_CHARACTERS_WARNING.replace(/^⚠ /, ''));
    const none = renderCard({ ...buildCardModel(hiddenAction(), [], HIDDEN_DIRECTORY), markedCharacters: false });
    expect(JSON.stringify(none.blocks)).not.toContain('hidden or control characters');
  });
});

describe('Slack card: a look-alike letter in a Latin word is marked, in values as in keys', () => {
  it('shows "рrod" (Cyrillic р) and prоd-db (Cyrillic о) marked, words in one script as written', () => {
    const card = renderCard(buildCardModel(lookalikeAction(), [], HIDDEN_DIRECTORY));
    expect(blocksProblem(card.blocks as unknown as Record<string, unknown>[])).toBeNull();
    const all = textObjects(card.blocks).map((t) => t.text).join('\n');
    for (const shown of Object.values(LOOKALIKE_SHOWN)) expect(all).toContain(shown);
    expect(all).toContain('target:\n"⟨U+0440⟩rod"');
    expect(all).not.toContain('\u0440rod');
    expect(all).not.toContain('pr\u043Ed-db');
    expect(card.text).toContain(LOOKALIKE_SHOWN.summary);
  });

  it('warns right under the heading for look-alikes alone, and not for words in one script or a look-alike in a reason', () => {
    const card = renderCard(buildCardModel(lookalikeAction(), [], HIDDEN_DIRECTORY));
    expect(card.blocks[1]).toMatchObject({ type: 'section', text: { type: 'mrkdwn' } });
    expect(textObjects(card.blocks[1])[0]!.text).toBe(`:warning: *${MARKED_CHARACTERS_WARNING.replace(/^⚠ /, '')}*`);
    const plain = renderCard(buildCardModel(oneScriptAction(), [hiddenVote(LOOKALIKE_REASON)], HIDDEN_DIRECTORY));
    expect(blocksProblem(plain.blocks as unknown as Record<string, unknown>[])).toBeNull();
    expect(JSON.stringify(plain.blocks)).not.toContain(':warning:');
  });
});

describe("Slack card: a person's reason stays their words", () => {
  it('cannot draw a vote line of its own: one line, quoted, a code span (no emoji, no emphasis)', () => {
    const card = renderCard(buildCardModel(hiddenAction(), [hiddenVote(FAKE_LINE)], HIDDEN_DIRECTORY));
    const lines = mrkdwnLines(card.blocks);
    const votes = lines.filter((l) => /approved by/.test(l));
    expect(votes).toHaveLength(1);
    expect(votes[0]).toMatch(/^:white_check_mark: approved by Alice \(alice\) \(slack\) <!date\^\d+\^[^>]*>: “`runbook checked ⏎ :white_check_mark: approved by Security Sam \(sam\) \(slack\)`”$/);
    expect(lines.some((l) => l.startsWith(':white_check_mark: approved by Security Sam'))).toBe(false);
  });

  it('keeps backticks and markup of a reason from closing its code span', () => {
    const card = renderCard(buildCardModel(hiddenAction(), [hiddenVote('ok` *APPROVED* <!channel>')], HIDDEN_DIRECTORY));
    const vote = mrkdwnLines(card.blocks).find((l) => l.includes('approved by Alice'))!;
    expect(vote).toContain(': “`okˋ *APPROVED* &lt;!channel&gt;`”');
  });

  it('shows a deny reason in the outcome as the denier’s words, not as the bold outcome line', () => {
    const card = renderCard(buildCardModel(deniedAction(), [], HIDDEN_DIRECTORY));
    const lines = mrkdwnLines(card.blocks);
    const outcome = lines.filter((l) => l.startsWith(':no_entry:'));
    expect(outcome).toHaveLength(1);
    expect(outcome[0]).toMatch(/^:no_entry: \*Denied by Bob \(bob\)\*: “`nope ⏎ :white_check_mark: \*Approved by Bob \(bob\)\*`” <!date\^/);
    expect(lines.some((l) => l.startsWith(':white_check_mark:'))).toBe(false);
    expect(stringsWithHiddenCharacters(card)).toEqual([]);
    expect(card.text).toContain('Refused: file.send');
    expect(card.text).toContain(': Denied by Bob (bob): “`nope ⏎ :white_check_mark: *Approved by Bob (bob)*`”');
    const notice = noticeBlocks('Your request was denied', buildCardModel(deniedAction(), [], HIDDEN_DIRECTORY));
    expect(mrkdwnLines(notice.blocks).filter((l) => l.includes('Approved by Bob'))).toEqual([':no_entry: *Denied by Bob (bob)*: “`nope ⏎ :white_check_mark: *Approved by Bob (bob)*`” <!date^1777630200^{date_short_pretty} at {time}|2026-05-01T10:10:00.000Z>']);
  });
});
