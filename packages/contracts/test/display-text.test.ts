import { describe, expect, it } from 'vitest';
import { callerLine, callerText, displayLine, displayText, hasHiddenCharacters, hasLookalikeLetters, keyText, lookalikeMarked, valueLine, valueText } from '../src/display-text.ts';

// Caller text is shown exactly and visibly: what a terminal, a browser or a chat client would act
// on or hide is shown as a mark; everything a person can read is left as it is.

describe('displayText / displayLine', () => {
  it('marks what would rewrite a terminal line: CR, ESC, other C0 and C1 controls, DEL', () => {
    expect(displayLine('x\r  what: db.query (read-only)\u001b[K')).toBe('x⟨U+000D⟩  what: db.query (read-only)⟨U+001B⟩[K');
    expect(displayText('a\u0007b\u007fc\u009bd\u0000e')).toBe('a⟨U+0007⟩b⟨U+007F⟩c⟨U+009B⟩d⟨U+0000⟩e');
    expect(displayText('\u001b]52;c;ZXZpbA==\u0007')).toBe('⟨U+001B⟩]52;c;ZXZpbA==⟨U+0007⟩');
  });

  it('marks what reorders or hides text: bidi overrides and isolates, zero-width characters, tags', () => {
    expect(displayText('invoice\u202Efdp.exe')).toBe('invoice⟨U+202E⟩fdp.exe');
    expect(displayText('env/pro\u200Bd-eu-1')).toBe('env/pro⟨U+200B⟩d-eu-1');
    expect(displayText('#\u2066; rm -rf /prod\u2069')).toBe('#⟨U+2066⟩; rm -rf /prod⟨U+2069⟩');
    expect(displayText('a\uFEFFb\u2060c\u00ADd\u200Fe')).toBe('a⟨U+FEFF⟩b⟨U+2060⟩c⟨U+00AD⟩d⟨U+200F⟩e');
    expect(displayText('ok\u{E0041}\u{E0042}')).toBe('ok⟨U+E0041⟩⟨U+E0042⟩');
    expect(displayText('line\u2028sep')).toBe('line⟨U+2028⟩sep');
  });

  it('marks by Unicode property: whatever is drawn as nothing (variation selectors after a letter, format characters of every block, reserved ignorables, Hangul fillers) and the braille blank', () => {
    expect(displayText('env/pro\uFE00d-eu-1')).toBe('env/pro⟨U+FE00⟩d-eu-1');
    expect(displayText('a\uFE0Fb')).toBe('a⟨U+FE0F⟩b');
    expect(displayText('x\u{1D173}\u{1BCA0}\u{E0080}\uFFF0\u115F\u3164\u034F\u2800y')).toBe('x⟨U+1D173⟩⟨U+1BCA0⟩⟨U+E0080⟩⟨U+FFF0⟩⟨U+115F⟩⟨U+3164⟩⟨U+034F⟩⟨U+2800⟩y');
    expect(displayText('next\u0085line')).toBe('next⟨U+0085⟩line');
  });

  it('leaves readable text alone: accents, right-to-left scripts, CJK, emoji with their variation selector', () => {
    for (const text of ['Zoë’s café — naïve', 'مرحبا بالعالم', 'שלום', '日本語のテキスト', '❤️ 👍🏽', 'tab\tand\nnewline'])
      expect(displayText(text)).toBe(text);
    expect(hasHiddenCharacters('❤️ مرحبا')).toBe(false);
  });

  it('one line: a line break is shown, so a reason cannot draw a line that looks like the card\'s own', () => {
    expect(displayLine('runbook checked\n:white_check_mark: approved by Sam')).toBe('runbook checked ⏎ :white_check_mark: approved by Sam');
    expect(displayLine('a\r\nb\tc')).toBe('a ⏎ b c');
    expect(displayText('a\nb')).toBe('a\nb');
  });

  it('tells whether a text holds anything it would mark, every time it is asked (no regex state left over)', () => {
    for (let i = 0; i < 3; i++) {
      expect(hasHiddenCharacters('a\u202Eb')).toBe(true);
      expect(hasHiddenCharacters('plain')).toBe(false);
    }
  });
});

describe('valueText: no two values look alike', () => {
  it('JSON, text quoted: text never looks like a boolean, a number, null, a list or an object', () => {
    expect(valueText('eu-west-1')).toBe('"eu-west-1"');
    expect(valueText('false')).toBe('"false"');
    expect(valueText(false)).toBe('false');
    expect(valueText('fals\u0435')).toBe('"fals\u0435"');
    expect(valueText('false\u00a0')).toBe('"false\u00a0"');
    expect(valueText('42')).toBe('"42"');
    expect(valueText(42)).toBe('42');
    expect(valueText(null)).toBe('null');
    expect(valueText([])).toBe('[]');
    expect(valueText('')).toBe('""');
    expect(valueText({ a: 'false' })).toBe('{"a":"false"}');
  });

  it('over many values of every kind, two different values never show the same', () => {
    const values: unknown[] = ['', ' ', 'false', 'fals\u0435', 'false\u00a0', 'true', 'null', '0', '-1', '1e3', '[]', '{}', '"x"', '"', 'x', '[1', false, true, null, 0, -1, 1000, [], {}, ['x'], { a: 1 }];
    const shown = new Map<string, unknown>();
    for (const v of values) {
      const text = valueText(v);
      expect(shown.has(text), `${JSON.stringify(v)} shows as ${text}, as ${JSON.stringify(shown.get(text))} does`).toBe(false);
      shown.set(text, v);
    }
  });
});

describe('keyText: a key mixing Latin with look-alike letters shows them as marks', () => {
  it('marks the Cyrillic, Greek or Armenian letters of a word that has Latin ones', () => {
    expect(keyText('delet\u0435Backups')).toBe('delet⟨U+0435⟩Backups');
    expect(keyText('\u03BFverride')).toBe('⟨U+03BF⟩verride');
    expect(keyText('dry_run\u0585')).toBe('dry_run⟨U+0585⟩');
  });

  it('leaves words in one script, and words of two scripts side by side, as written', () => {
    for (const key of ['deleteBackups', '\u0443\u0434\u0430\u043B\u0438\u0442\u044C', '\u03B4\u03AD\u03BB\u03C4\u03B1', '\u0423\u0434\u0430\u043B\u0438\u0442\u044C env', 'caf\u00E9', '\u751F\u4EA7-eu', 'v2_max']) {
      expect(keyText(key), key).toBe(key);
    }
  });

  it('keeps displayLine\'s own marks', () => {
    expect(keyText('ta\uFEFFrget')).toBe('ta⟨U+FEFF⟩rget');
  });
});

describe('lookalikeMarked: a word mixing Latin with look-alike letters shows them as marks, in keys and values alike', () => {
  it('marks the Cyrillic, Greek or Armenian letters of a word that has Latin ones', () => {
    expect(lookalikeMarked('\u0440rod')).toBe('⟨U+0440⟩rod');
    expect(lookalikeMarked('pr\u043Ed-db')).toBe('pr⟨U+043E⟩d-db');
    expect(lookalikeMarked('env/pr\u043Ed-eu-1')).toBe('env/pr⟨U+043E⟩d-eu-1');
    expect(lookalikeMarked('\u0430dmin\u03BF \u0585k')).toBe('⟨U+0430⟩dmin⟨U+03BF⟩ ⟨U+0585⟩k');
  });

  it('leaves words in one script, and words of two scripts side by side, as written', () => {
    for (const text of ['prod', '\u0443\u0434\u0430\u043B\u0438\u0442\u044C', '\u03B4\u03AD\u03BB\u03C4\u03B1', '\u0423\u0434\u0430\u043B\u0438\u0442\u044C env', 'prod-\u043E\u043A\u0440\u0443\u0436\u0435\u043D\u0438\u0435', 'caf\u00E9', '\u751F\u4EA7-eu', '2024 \u0433\u043E\u0434', '']) {
      expect(lookalikeMarked(text), text).toBe(text);
    }
  });

  it('counts digits and underscores as part of a word, never as Latin letters', () => {
    expect(lookalikeMarked('v2_\u0440rod')).toBe('v2_⟨U+0440⟩rod');
    expect(lookalikeMarked('db_\u0431\u0430\u0437\u0430')).toBe('db_⟨U+0431⟩⟨U+0430⟩⟨U+0437⟩⟨U+0430⟩');
    expect(lookalikeMarked('2\u0440\u043E\u0434_1')).toBe('2\u0440\u043E\u0434_1');
  });

  it('reads a word across an invisible joiner (a downstream that drops it reads one word), not across a bidi control', () => {
    expect(callerLine('\u0440\u200Brod')).toBe('⟨U+0440⟩⟨U+200B⟩rod');
    expect(callerLine('\u0423\u0434\u0430\u043B\u0438\u0442\u044C\u2066env')).toBe('\u0423\u0434\u0430\u043B\u0438\u0442\u044C⟨U+2066⟩env');
  });

  it('in JSON text, reads an escape as an escape: quoted values are marked, \\n is not a Latin n', () => {
    expect(lookalikeMarked('"\u0440rod"', { json: true })).toBe('"⟨U+0440⟩rod"');
    expect(valueLine('\u0440rod')).toBe('"⟨U+0440⟩rod"');
    expect(valueLine({ 'd\u0435lete': ['\u0440rod', 'prod'] })).toBe('{"d⟨U+0435⟩lete":["⟨U+0440⟩rod","prod"]}');
    expect(valueLine('\n\u043F\u0440\u0438\u0432\u0435\u0442')).toBe('"\\n\u043F\u0440\u0438\u0432\u0435\u0442"');
    expect(valueLine('\u001b\u043F\u0440\u0438')).toBe('"\\u001b\u043F\u0440\u0438"');
    expect(valueLine('a\\\u0440rod')).toBe('"a\\\\⟨U+0440⟩rod"');
    expect(valueLine('fals\u0435')).toBe('"fals⟨U+0435⟩"');
    for (const v of ['prod', '\u0443\u0434\u0430\u043B\u0438\u0442\u044C env', 42, false, null, { a: 'b' }]) expect(valueLine(v)).toBe(valueText(v));
  });

  it('keeps the hidden-character marks and line handling of displayLine and displayText', () => {
    expect(valueLine('pro\u200Bd')).toBe('"pro⟨U+200B⟩d"');
    expect(callerLine('\u0440rod\nnext')).toBe('⟨U+0440⟩rod ⏎ next');
    expect(callerText('line one\n\u0440rod\u202E')).toBe('line one\n⟨U+0440⟩rod⟨U+202E⟩');
    expect(keyText('delet\u0435Backups')).toBe(lookalikeMarked('delet\u0435Backups'));
  });

  it('hasLookalikeLetters says whether lookalikeMarked marks anything, in text and in JSON text', () => {
    for (const text of ['\u0440rod', 'pr\u043Ed-db', 'delet\u0435Backups', '\u0440\u200Brod', 'ok, \u0430dmin']) expect(hasLookalikeLetters(text), text).toBe(true);
    for (const text of ['prod', '\u0443\u0434\u0430\u043B\u0438\u0442\u044C', '\u0423\u0434\u0430\u043B\u0438\u0442\u044C env', '\u03B4\u03AD\u03BB\u03C4\u03B1', 'pro\u200Bd', '']) expect(hasLookalikeLetters(text), text).toBe(false);
    expect(hasLookalikeLetters(valueText({ 'd\u0435lete': true }), { json: true })).toBe(true);
    // In JSON text "\n" is an escape, not a Latin n before the Cyrillic word.
    expect(hasLookalikeLetters(valueText('\n\u043F\u0440\u0438\u0432\u0435\u0442'), { json: true })).toBe(false);
    expect(hasLookalikeLetters(valueText('\n\u043F\u0440\u0438\u0432\u0435\u0442'))).toBe(true);
  });
});
