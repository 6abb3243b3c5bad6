import { plain, shorten } from './cards/adaptive-card.ts';

// Text messages (reminders, notices to the requester) carry caller text too: the request's
// summary is in every reminder. Teams renders a message's text as Markdown and a subset of
// HTML, so "[Approve here](https://…)" or "<a href=…>" would be a disguised link under the
// bot's name. As on the card, a zero-width space keeps the text as written and the syntax inert.

/** Far below Teams' message size limit, and more than any reminder or notice needs. */
const MAX_MESSAGE_TEXT = 4000;

export function plainMessage(value: string): string {
  return plain(shorten(value, MAX_MESSAGE_TEXT)).replaceAll('<', '<\u200B');
}
