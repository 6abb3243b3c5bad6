import { describe, expect, it } from 'vitest';
import { buildCardModel, type ActionRecord } from '@countersign/core';
import { plainMessage, textMessage } from '../src/message-text.ts';
import { reminderText } from '../../worker/src/jobs/remind.ts';
import { requesterNotice } from '../../worker/src/jobs/requester-notice.ts';
import { HIDDEN_DIRECTORY, hiddenAction, stringsWithHiddenCharacters } from '../../../packages/core/test/support/hidden-characters.ts';

// Review s4b B2: Teams renders a bot's message text as Markdown plus an HTML subset and decodes
// entities, so a reminder or notice quoting "~prod~", "*approved*" or "invoice&#x202E;fdp.exe"
// drew formatting, or a real right-to-left override, under the bot's name. They go out as
// plain text (textFormat plain), every "&", "<" and "]" followed by a zero-width space so that
// no entity, tag or link can form even if a client renders them, hidden characters marked.

const SUMMARY =
  'Rotate *staging* ~prod-eu-1~ keys _approved_ [Approve](https://evil.example) <a href="https://evil.example">here</a> invoice&#x202E;fdp.exe &amp;#x202E; \u202Eexe.txt\n✅ **Approved by Bob**';
const DENY = '*approved by Alice* ~deny~ &#x202E;\n✅ Approved by Bob (bob)';

function hostile(overrides: Partial<ActionRecord> = {}): ActionRecord {
  const a = hiddenAction({ ownerId: 'erin', onBehalfOf: null, ...overrides });
  return { ...a, intent: { ...a.intent, action: { ...a.intent.action, summary: SUMMARY } } };
}

/** Our zero-width spaces aside, no hidden character; no entity, tag or Markdown link can form. */
function expectInert(sent: string): void {
  expect(stringsWithHiddenCharacters(sent, (s) => s.replaceAll('\u200B', ''))).toEqual([]);
  expect(sent).not.toMatch(/&#|&amp;|<a|\]\(/);
  expect(sent).not.toContain('\u202E');
  expect(sent).not.toContain('\n');
}

describe('Teams reminders and notices: caller text goes out inert', () => {
  it('sends a reminder quoting the summary as plain text, entities and tags broken, the override marked', () => {
    const model = buildCardModel(hostile(), [], HIDDEN_DIRECTORY);
    const message = textMessage(reminderText(model));
    expect(message.type).toBe('message');
    expect(message.textFormat).toBe('plain');
    expectInert(message.text);
    expect(message.text.replaceAll('\u200B', '')).toContain(
      'Rotate *staging* ~prod-eu-1~ keys _approved_ [Approve](https://evil.example) <a href="https://evil.example">here</a> invoice&#x202E;fdp.exe &amp;#x202E; ⟨U+202E⟩exe.txt ⏎ ✅ **Approved by Bob**',
    );
  });

  it('sends the requester notice with the denier’s reason inert and on one line', () => {
    const action = hostile({ status: 'refused', decidedBy: 'bob', decidedAt: new Date('2026-05-01T10:10:00.000Z'), decisionReason: DENY });
    const message = textMessage(requesterNotice(action, buildCardModel(action, [], HIDDEN_DIRECTORY)));
    expect(message.textFormat).toBe('plain');
    expectInert(message.text);
    expect(message.text.replaceAll('\u200B', '')).toContain('Denied by Bob (bob): *approved by Alice* ~deny~ &#x202E; ⏎ ✅ Approved by Bob (bob).');
  });

  it('marks hidden characters and breaks entities in text that did not come from the card model', () => {
    const sent = plainMessage('invoice&#x202E;fdp.exe R&D \u202Eexe.txt\nsecond line');
    expectInert(sent);
    expect(sent).toBe('invoice&\u200B#x202E;fdp.exe R&\u200BD ⟨U+202E⟩exe.txt ⏎ second line');
  });

  it('leaves our own plain words as they are', () => {
    expect(textMessage('Still waiting for security')).toEqual({ type: 'message', text: 'Still waiting for security', textFormat: 'plain' });
  });
});
