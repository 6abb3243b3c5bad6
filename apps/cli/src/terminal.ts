import { callerLine, displayLine, hasHiddenCharacters, hasLookalikeLetters, valueLine, valueText } from '@countersign/contracts';

// Text that someone else wrote (an agent's intent, a person's reason or key label, a server's
// error, a file's contents) reaches a terminal only through these. A terminal acts on what it
// is sent: a carriage return and ESC [K rewrite the line that says what will run, ESC
// sequences hide text, write the clipboard (OSC 52) or disguise links (OSC 8), and a bidi
// override reorders what a reviewer reads. What the caller wrote (an intent's text, keys and
// values, onBehalfOf) also has the Cyrillic, Greek or Armenian letters of a word mixing them with
// Latin ones marked ("⟨U+0440⟩rod" is not "prod"), as on the cards and in the console. Display
// only: what the CLI sends to the server and writes to files is unchanged.

/** Caller text on one line: hidden characters as ⟨U+XXXX⟩ marks, line breaks as " ⏎ ". */
export function shownLine(value: unknown): string {
  return displayLine(String(value ?? ''));
}

/**
 * An error's message on one line: messages can quote what a caller, a server or a file said
 * (a JSON parser's message repeats the first bytes it could not read).
 */
export function shownError(err: unknown): string {
  return shownLine(err instanceof Error ? err.message : err);
}

/**
 * JSON for stdout, meant for machines and read by people: `JSON.stringify`, with every
 * character `displayText` would mark written as its \uXXXX escape. JSON.stringify already
 * escapes C0 controls, but not C1 controls, bidi controls, zero-width or line separators; the
 * escapes are the same JSON (`JSON.parse` gives back exactly the same values), so a program
 * reading it loses nothing and a terminal never receives the raw characters.
 */
export function terminalJson(value: unknown, indent?: number): string {
  return escapeHiddenInJson(JSON.stringify(value, null, indent) ?? 'null');
}

/**
 * The same escaping for text that is already JSON (a JSON log line). Hidden characters can
 * only be inside JSON strings, where \uXXXX stands for the very same character.
 */
export function escapeHiddenInJson(json: string): string {
  if (!hasHiddenCharacters(json)) return json;
  let out = '';
  for (const ch of json) {
    if (!hasHiddenCharacters(ch)) {
      out += ch;
      continue;
    }
    // An astral character (a Unicode tag) is two UTF-16 units: JSON escapes it as a pair.
    for (let i = 0; i < ch.length; i++) out += `\\u${ch.charCodeAt(i).toString(16).padStart(4, '0')}`;
  }
  return out;
}

/**
 * Printed under `actions list` when a row shown above is marked (`actions show` prints the cards'
 * and the console's MARKED_CHARACTERS_WARNING).
 */
export const MARKED_LIST_WARNING =
  '⚠ some actions above contain hidden or control characters, or letters from another alphabet that look like Latin ones, shown as ⟨U+…⟩ marks: see `actions show ID`';

/**
 * Shows text line by line and remembers whether any of it was marked, so a view can say so above
 * (or below) what it printed.
 */
export class ShownText {
  /** Whether anything shown was marked: a hidden character, or a look-alike letter in the caller's words. */
  marked = false;

  /** Text on one line (a person's words, the server's, an id): hidden characters as marks. */
  line = (value: unknown): string => {
    const text = String(value ?? '');
    if (hasHiddenCharacters(text)) this.marked = true;
    return displayLine(text);
  };

  /**
   * The caller's text on one line (a resource, a summary, onBehalfOf): as `line`, and the
   * look-alike letters of a word mixing them with Latin ones marked (callerLine).
   */
  caller = (value: unknown): string => {
    const text = String(value ?? '');
    if (hasHiddenCharacters(text) || hasLookalikeLetters(text)) this.marked = true;
    return callerLine(text);
  };

  /**
   * A value whose type the caller chose (the params), on one line as JSON, text quoted: valueLine,
   * look-alike letters marked in its text and keys. JSON escapes C0 controls itself, so hidden
   * characters are looked for in the value's own strings.
   */
  value = (value: unknown): string => {
    this.note(value);
    if (hasLookalikeLetters(valueText(value), { json: true })) this.marked = true;
    return valueLine(value);
  };

  /** Whether any string (or key) inside a JSON value holds hidden characters. */
  note(value: unknown): void {
    if (typeof value === 'string') {
      if (hasHiddenCharacters(value)) this.marked = true;
    } else if (Array.isArray(value)) {
      for (const v of value) this.note(v);
    } else if (value && typeof value === 'object') {
      for (const [k, v] of Object.entries(value)) {
        this.note(k);
        this.note(v);
      }
    }
  }
}

/** Whether a stream is a terminal (a pipe or a file is not). */
export function isTerminal(stream: NodeJS.WritableStream): boolean {
  return (stream as { isTTY?: boolean }).isTTY === true;
}
