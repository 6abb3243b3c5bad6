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
 * Marks come after, on the JSON text: valueLine marks look-alike letters and hidden characters.
 */
export function valueText(value: unknown): string {
  return JSON.stringify(value) ?? String(value);
}

// Look-alike letters. Cyrillic, Greek and Armenian have letters drawn like Latin ones (е, о, р,
// а, с; ο, ν; օ, ս): "рrod" with a Cyrillic р reads as "prod" to an approver, while a rule, a
// database or a shell reads another name; a key "deletеBackups" (a Cyrillic е) reads as
// "deleteBackups", while a downstream reading `deleteBackups` finds nothing there and applies its
// default. Text in one of those scripts is not suspect, nor is text that uses two side by side
// ("Удалить env"); a word that mixes Latin letters with theirs is: there the look-alikes are
// shown as marks, "⟨U+0440⟩rod". Display only, as the hidden-character marks.
const LOOKALIKE_LETTER = /[\p{Script=Cyrillic}\p{Script=Greek}\p{Script=Armenian}]/u;
const LOOKALIKE_LETTERS = new RegExp(LOOKALIKE_LETTER.source, 'gu');
const LATIN_LETTER = /\p{Script=Latin}/u;
/**
 * A word's characters: letters, marks, digits, "_", and the invisible characters that join a
 * word without showing (zero-width space and joiners, the soft hyphen, …: default-ignorable
 * code points but the bidi controls, which reorder rather than join), so that "р\u200Brod" is
 * one word, as it is to a downstream that drops the zero-width space. (Built at run time: `v`.)
 */
const WORD_CHAR = String.raw`[[\p{L}\p{M}\p{N}_\p{Default_Ignorable_Code_Point}]--\p{Bidi_Control}]`;
const WORD = new RegExp(`${WORD_CHAR}+`, 'gv');
/**
 * In JSON text (valueText's), an escape is one token ("\n", "\\", "\u001b"), never part of a
 * word: JSON of "\nпривет" is `"\nпривет"`, whose "n" is not a Latin letter of the word after it.
 */
const JSON_TOKEN = new RegExp(String.raw`\\(?:u[0-9A-Fa-f]{4}|.)|${WORD_CHAR}+`, 'gv');

function markedWord(word: string): string {
  if (word.startsWith('\\') || !LATIN_LETTER.test(word) || !LOOKALIKE_LETTER.test(word)) return word;
  return word.replace(LOOKALIKE_LETTERS, mark);
}

/**
 * `text` with the Cyrillic, Greek and Armenian letters of every word that also has Latin ones
 * shown as marks: "рrod" (a Cyrillic р) is "⟨U+0440⟩rod", "deletеBackups" is
 * "delet⟨U+0435⟩Backups". Words wholly in one script ("удалить", "δέλτα", "prod") and words of
 * two scripts side by side ("Удалить env") are left as written. With `json`, `text` is JSON (as
 * valueText writes it) and its escapes are not read as letters. Run it on the text as written,
 * before displayLine or displayText, which then mark the hidden characters (theirs and these
 * marks never overlap). Every caller-written name, value and key an approver reads goes through
 * it: keyText, callerLine, callerText, valueLine.
 */
export function lookalikeMarked(text: string, opts: { json?: boolean } = {}): string {
  return text.replace(opts.json ? JSON_TOKEN : WORD, markedWord);
}

/**
 * Whether `lookalikeMarked(text, opts)` marks a letter: a word of `text` mixes Latin letters with
 * Cyrillic, Greek or Armenian ones ("рrod", "deletеBackups"; not "удалить", "Удалить env"). It is
 * that function's own test (it changes text only by marking), so the two never disagree: a warning
 * that look-alikes are marked is given exactly when one is.
 */
export function hasLookalikeLetters(text: string, opts: { json?: boolean } = {}): boolean {
  return lookalikeMarked(text, opts) !== text;
}

/**
 * A caller's text on one line, as approvers read it (a resource, an environment, a summary, a
 * named field's text): displayLine, with look-alike letters in mixed words marked.
 */
export function callerLine(text: string): string {
  return displayLine(lookalikeMarked(text));
}

/** A caller's text of several lines (a justification): displayText, look-alike letters marked. */
export function callerText(text: string): string {
  return displayText(lookalikeMarked(text));
}

/**
 * A value whose type the caller chose (a param, an attribute) on one line, as approvers read it:
 * valueText's JSON, look-alike letters marked in it (in its text and its object keys alike),
 * hidden characters marked (displayLine). `"рrod"` shows as `"⟨U+0440⟩rod"`.
 */
export function valueLine(value: unknown): string {
  return displayLine(lookalikeMarked(valueText(value), { json: true }));
}

/**
 * A key of the caller's (a param, an attribute) on one line: as callerLine. "deletеBackups" (a
 * Cyrillic е) shows as "delet⟨U+0435⟩Backups", never as the `deleteBackups` a downstream reads.
 */
export function keyText(key: string): string {
  return callerLine(key);
}
