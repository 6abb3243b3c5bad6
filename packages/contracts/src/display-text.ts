// What callers wrote (an agent's intent, a person's reason) is shown to the people who decide
// exactly, and visibly. Some characters are not shown by a terminal, a browser or a chat
// client but acted on: a carriage return or an escape sequence rewrites a terminal line, a
// bidi override reorders what follows it ("invoice\u202Efdp.exe" reads as "invoiceexe.pdf"), a
// zero-width space makes "pro\u200Bd" look like "prod". Each such character is shown as a
// visible mark, ⟨U+202E⟩, wherever caller text is displayed. Display only: what is stored,
// hashed and released is the text as it was sent.

/**
 * Characters shown as marks, by Unicode property rather than a list (a list always misses
 * one): controls (Cc: C0, DEL, C1) but tab and newline, format characters (Cf: bidi marks,
 * embeddings, overrides and isolates, zero-width characters, the soft hyphen, tags, …),
 * every default-ignorable code point (drawn as nothing: variation selectors, Hangul fillers,
 * the combining grapheme joiner, reserved ranges), line and paragraph separators, and the
 * braille blank (drawn as a space, not one). The emoji presentation selectors U+FE0E and
 * U+FE0F stay after a character that has an emoji form: there they only choose how it is
 * drawn; anywhere else they are marked too. (`v` flag: set subtraction; built at run time
 * because the compiler's target predates the flag's syntax, not Node's support of it.)
 */
const HIDDEN = new RegExp(
  String.raw`[[\p{Cc}\p{Cf}\p{Default_Ignorable_Code_Point}\p{Zl}\p{Zp}\u2800]--[\t\n\uFE0E\uFE0F]]|(?<!\p{Emoji})[\uFE0E\uFE0F]`,
  'gv',
);

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


/**
 * A value whose type the caller chose (an intent's params and attributes), as an approver reads
 * it: as JSON, text quoted. Shown as written, the text "false" would look like the boolean false
 * (and "falsе" with a Cyrillic е, or "false" with a trailing no-break space, would too), while a
 * downstream treats it the other way ("false" is truthy). Quoted, no two values look alike.
 * Marks for hidden characters come after (displayLine), on the JSON text.
 */
export function valueText(value: unknown): string {
  return JSON.stringify(value) ?? String(value);
}

// Scripts with letters drawn like Latin ones (е, о, р, а, с; ο, ν; օ, ս).
const LOOKALIKE_LETTER = /[\p{Script=Cyrillic}\p{Script=Greek}\p{Script=Armenian}]/gu;
const LATIN_LETTER = /\p{Script=Latin}/u;
const WORD = /[\p{L}\p{M}\p{N}_]+/gu;

/**
 * A key of the caller's (a param, an attribute) on one line, as displayLine shows it, and in a
 * word that mixes Latin letters with Cyrillic, Greek or Armenian ones, those shown as marks:
 * "deletеBackups" (a Cyrillic е) reads as "deleteBackups", while a downstream reading
 * `deleteBackups` finds nothing there and applies its default. Words in one script ("удалить",
 * "δέλτα") and words side by side in two ("Удалить env") are shown as written.
 */
export function keyText(key: string): string {
  return displayLine(key).replace(WORD, (word) => {
    LOOKALIKE_LETTER.lastIndex = 0;
    if (!LATIN_LETTER.test(word) || !LOOKALIKE_LETTER.test(word)) return word;
    return word.replace(LOOKALIKE_LETTER, mark);
  });
}
