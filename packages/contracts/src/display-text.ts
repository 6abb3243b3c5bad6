// What callers wrote (an agent's intent, a person's reason) is shown to the people who decide
// exactly, and visibly. Some characters are not shown by a terminal, a browser or a chat
// client but acted on: a carriage return or an escape sequence rewrites a terminal line, a
// bidi override reorders what follows it ("invoice\u202Efdp.exe" reads as "invoiceexe.pdf"), a
// zero-width space makes "pro\u200Bd" look like "prod". Each such character is shown as a
// visible mark, ⟨U+202E⟩, wherever caller text is displayed. Display only: what is stored,
// hashed and released is the text as it was sent.

/**
 * Characters shown as marks: C0 and C1 controls (but tab and newline, see below), DEL, the
 * soft hyphen, bidi marks, embeddings, overrides and isolates, zero-width and other invisible
 * format characters, line and paragraph separators, Hangul fillers, the combining grapheme
 * joiner, interlinear annotation, Unicode tags and the supplementary variation selectors
 * (invisible, and used to smuggle text). The emoji variation selectors U+FE00–U+FE0F stay:
 * they only choose how the character before them is drawn.
 */
const HIDDEN =
  /[\u0000-\u0008\u000B-\u001F\u007F-\u009F\u00AD\u034F\u061C\u115F\u1160\u17B4\u17B5\u180B-\u180F\u200B-\u200F\u2028-\u202E\u2060-\u206F\u3164\uFEFF\uFFA0\uFFF9-\uFFFB]|[\u{E0000}-\u{E007F}\u{E0100}-\u{E01EF}]/gu;

const mark = (ch: string): string => `⟨U+${ch.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}⟩`;

/** Whether `text` holds a character that `displayText` would show as a mark. */
export function hasHiddenCharacters(text: string): boolean {
  HIDDEN.lastIndex = 0;
  const found = HIDDEN.test(text);
  HIDDEN.lastIndex = 0;
  return found;
}

/**
 * For places that show several lines (a console page, a multi-line block): newlines and tabs
 * stay, every other hidden character becomes a mark (a carriage return too: it would move
 * the cursor back over what was already drawn).
 */
export function displayText(text: string): string {
  return text.replace(HIDDEN, mark);
}

/**
 * For one line (a terminal row, a card field, a vote's reason): as `displayText`, and a line
 * break is shown as " ⏎ ", so that the text can never start a line of its own that looks like
 * the display's (a forged "approved by" line under a reason). A tab becomes a space.
 */
export function displayLine(text: string): string {
  return displayText(text.replace(/\r\n/g, '\n')).replace(/\n/g, ' ⏎ ').replace(/\t/g, ' ');
}
