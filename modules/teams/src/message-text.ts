import { displayLine } from '@countersign/contracts';
import { plain, shorten } from './cards/adaptive-card.ts';

// Text messages (reminders, notices to the requester) carry caller text too: the request's
// summary is in every reminder, a denier's reason in a notice. Teams renders a message's text
// as Markdown and a subset of HTML, and decodes HTML entities: "[Approve here](https://…)" or
// "<a href=…>" would be a disguised link under the bot's name, "~prod~" or "*approved*" the
// bot's own formatting, and "invoice&#x202E;fdp.exe" (no hidden character in it, so nothing
// marked) a real right-to-left override. So these messages are sent as `textFormat: 'plain'`
// ("raw text with no formatting applied"), and, in case a client renders them anyway, a
// zero-width space after "]", "<" and "&" keeps the text as written and the syntax inert: no
// link, no tag, no entity. Hidden characters are ⟨U+XXXX⟩ marks, as on the card.

/** Far below Teams' message size limit, and more than any reminder or notice needs. */
const MAX_MESSAGE_TEXT = 4000;

export function plainMessage(value: string): string {
  return plain(shorten(displayLine(value), MAX_MESSAGE_TEXT)).replaceAll('<', '<\u200B').replaceAll('&', '&\u200B');
}

/** A text message (reminder, notice) whose words may quote callers: plain text, inert. */
export function textMessage(value: string): { type: 'message'; text: string; textFormat: 'plain' } {
  return { type: 'message', text: plainMessage(value), textFormat: 'plain' };
}
