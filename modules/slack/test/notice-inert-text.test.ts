import { describe, expect, it } from 'vitest';
import pino from 'pino';
import { buildCardModel, type ActionRecord, type ConfigView } from '@countersign/core';
import { reasonModal } from '../src/blocks/reason-modal.ts';
import { noticeBlocks } from '../src/blocks/card-blocks.ts';
import { SlackChannel } from '../src/slack-channel.ts';
import type { ChannelNames } from '../src/channel-names.ts';
import type { SlackApi } from '../src/slack-api.ts';
import { reminderText } from '../../worker/src/jobs/remind.ts';
import { requesterNotice } from '../../worker/src/jobs/requester-notice.ts';
import { blocksProblem } from '../../../test/fakes/slack-api.ts';
import { HIDDEN_DIRECTORY, hiddenAction, stringsWithHiddenCharacters } from '../../../packages/core/test/support/hidden-characters.ts';
import { textObjects } from './text-objects.ts';

// Review s4b B2: outside the card (the reason modal, reminders, the requester's notice) the
// agent's summary and a denier's reason were live mrkdwn, so "~prod-eu-1~" was struck through
// in the very modal where a deny is typed. Here they must show as typed: plain_text blocks, a
// fallback sent with mrkdwn off and escaped, hidden characters as ⟨U+XXXX⟩ marks.

const SUMMARY =
  'Rotate *staging* ~prod-eu-1~ keys :white_check_mark: _approved by security_ <!channel> <https://evil.example|safe> invoice&#x202E;fdp.exe \u202Eexe.txt\n:white_check_mark: *Approved by Bob*';
const DENY = '*approved by Alice* :white_check_mark: ~deny~ <!here>\n:white_check_mark: *Approved by Bob (bob)*';
/** What no mrkdwn text of ours may carry: each would be formatting, a mention or a link there. */
const LIVE = ['~prod-eu-1~', '*staging*', '_approved by security_', '<!channel>', '<!here>', '<https://evil', '*approved by Alice*', '~deny~', '&#x202E;', '\u202E'];

function hostile(overrides: Partial<ActionRecord> = {}): ActionRecord {
  const a = hiddenAction(overrides);
  // Set on the parsed intent: the card model, not the API's schema, is what is under test.
  return { ...a, intent: { ...a.intent, action: { ...a.intent.action, summary: SUMMARY } } };
}
const pending = () => buildCardModel(hostile({ ownerId: 'erin', onBehalfOf: null }), [], HIDDEN_DIRECTORY);
const deniedAction = () => hostile({ ownerId: 'erin', onBehalfOf: null, status: 'refused', decidedBy: 'bob', decidedAt: new Date('2026-05-01T10:10:00.000Z'), decisionReason: DENY });

const mrkdwnTexts = (value: unknown) => textObjects(value).filter((t) => t.type === 'mrkdwn').map((t) => t.text);
const plainTexts = (value: unknown) => textObjects(value).filter((t) => t.type === 'plain_text');

/** The summary as the card model shows it: one line, the bidi override marked, nothing else changed. */
const SHOWN_SUMMARY = SUMMARY.replace('\u202E', '⟨U+202E⟩').replace('\n', ' ⏎ ');

/** A Slack Web API stand-in that records chat.postMessage arguments. */
function fakeSlack() {
  const posts: Record<string, unknown>[] = [];
  const client = {
    chat: { postMessage: async (args: Record<string, unknown>) => (posts.push(args), { ok: true, channel: String(args.channel), ts: '1.000001' }) },
    conversations: { open: async () => ({ ok: true, channel: { id: 'D0ERIN001' } }) },
  };
  const api = { call: (_method: string, fn: (c: unknown) => Promise<unknown>) => fn(client) } as unknown as SlackApi;
  const erin = { id: 'erin', name: 'Erin', email: 'erin@example.com', roles: [], slack: { userId: 'U0ERIN001' } };
  const directory = {
    ...HIDDEN_DIRECTORY,
    person: (id: string) => (id === 'erin' ? erin : undefined),
    personByIdentity: () => undefined,
    peopleByEmail: () => [],
  };
  const config = { current: () => ({ directory }) } as unknown as ConfigView;
  const channel = new SlackChannel({ api, config, names: {} as ChannelNames, logger: pino({ level: 'silent' }) });
  return { channel, posts };
}

describe('Slack reason modal: the agent summary is quoted as plain_text', () => {
  it('draws none of the summary as mrkdwn and shows it as typed, marks and all', () => {
    const model = pending();
    const modal = reasonModal({ actionId: model.actionId, decision: 'deny', channel: null }, model.title);
    for (const text of mrkdwnTexts(modal.blocks)) for (const live of LIVE) expect(text).not.toContain(live);
    expect(plainTexts(modal.blocks)).toContainEqual({ type: 'plain_text', text: `The agent says: “${SHOWN_SUMMARY}”`, emoji: false });
    expect(blocksProblem(modal.blocks as unknown as Record<string, unknown>[])).toBeNull();
    expect(stringsWithHiddenCharacters(modal)).toEqual([]);
  });
});

describe('Slack reminder: the queue’s words quoting the summary stay inert', () => {
  it('posts plain_text blocks and a fallback read without mrkdwn, escaped', async () => {
    const { channel, posts } = fakeSlack();
    const model = pending();
    const text = reminderText(model);
    await channel.remind(model, { channel: 'C0APPROVALS', ts: '1.000000' }, text);
    const [post] = posts;
    expect(post).toMatchObject({ channel: 'C0APPROVALS', thread_ts: '1.000000', mrkdwn: false });
    expect(mrkdwnTexts(post!.blocks)).toEqual([]);
    expect(plainTexts(post!.blocks)).toEqual([{ type: 'plain_text', text: `🔔 ${text}`, emoji: false }]);
    expect(text).toContain(`"${SHOWN_SUMMARY}"`);
    // The notification text: nothing Slack would read as a mention, a link or an entity of ours.
    const fallback = String(post!.text);
    expect(fallback).not.toMatch(/<[!@#h]|&#x202E;|\u202E/);
    expect(fallback).toContain('&lt;!channel&gt; &lt;https://evil.example|safe&gt; invoice&amp;#x202E;fdp.exe ⟨U+202E⟩exe.txt ⏎ :white_check_mark:');
    expect(blocksProblem(post!.blocks as Record<string, unknown>[])).toBeNull();
    expect(stringsWithHiddenCharacters(post)).toEqual([]);
  });
});

describe('Slack requester notice: the summary and the denier’s reason stay inert', () => {
  it('shows the notice text as plain_text, the reason only in its code span, the fallback without mrkdwn', async () => {
    const { channel, posts } = fakeSlack();
    const action = deniedAction();
    const model = buildCardModel(action, [], HIDDEN_DIRECTORY);
    const text = requesterNotice(action, model);
    expect(await channel.notifyPerson('erin', { actionId: action.id, text, card: model })).toBe(true);
    const [post] = posts;
    expect(post).toMatchObject({ channel: 'D0ERIN001', mrkdwn: false });
    // The reason appears in mrkdwn only inside the outcome line's code span (the card's treatment).
    for (const t of mrkdwnTexts(post!.blocks)) {
      const outside = t.replace(/“`[^`]*`”/g, '');
      for (const live of LIVE) expect(outside).not.toContain(live);
      expect(outside).not.toContain('Approved by Bob');
    }
    const plain = plainTexts(post!.blocks);
    expect(plain[0]).toEqual({ type: 'plain_text', text, emoji: false });
    expect(plain[0]!.text).toContain('*approved by Alice* :white_check_mark: ~deny~ <!here> ⏎ :white_check_mark: *Approved by Bob (bob)*');
    expect(plain.every((p) => p.emoji === false)).toBe(true);
    expect(String(post!.text)).not.toMatch(/<[!@#h]|&#x202E;|\u202E/);
    expect(blocksProblem(post!.blocks as Record<string, unknown>[])).toBeNull();
    expect(stringsWithHiddenCharacters(post)).toEqual([]);
  });

  it('keeps a backtick in the action type from closing the context line’s code span', () => {
    const model = { ...buildCardModel(deniedAction(), [], HIDDEN_DIRECTORY), actionType: 'file.send` *bold* <!channel>' };
    const context = mrkdwnTexts(noticeBlocks('Your request was denied', model).blocks).find((t) => t.includes('Action'))!;
    expect(context).toBe('`file.sendˋ *bold* &lt;!channel&gt;` · Action `act_h`');
  });
});
