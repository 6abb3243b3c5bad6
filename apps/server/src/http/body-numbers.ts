import type { FieldIssue } from '@countersign/contracts';

// A JSON number is read as a double: 9007199254740993 becomes 9007199254740992 and 1e-400
// becomes 0, silently. The approver would then see, and the release token bind, another number
// than the agent sent, and a downstream that acts on the agent's own JSON (a language whose
// integers are exact) would act on the number nobody approved. So a body whose number literal
// does not come back as itself from the double it was read into is refused, naming the field,
// as bad input: send such a value as a string.

// Only a literal with 16 or more digits (or dots) in a row, or a three-digit exponent, can lose
// anything; nearly every body has none, and skips the scan.
const SUSPECT = /\d[\d.]{15}|[eE][+-]?\d{3}/;

/** The first number literal in `text` (valid JSON) that its double does not give back, as an issue. */
export function lossyNumberIssue(text: string): FieldIssue | null {
  if (!SUSPECT.test(text)) return null;
  const lossy = firstLossyNumber(text);
  if (!lossy) return null;
  const read = String(Number(lossy.literal));
  return {
    field: lossy.path.length === 0 ? '(body)' : lossy.path.join('.'),
    message: `a number JSON cannot carry exactly here (${clip(lossy.literal)} would be read as ${clip(read)}): send it as a string`,
  };
}

type Frame = { kind: 'object'; key: string | null; expectKey: boolean } | { kind: 'array'; index: number };

/** Walks valid JSON once, keeping the path to the current value, until a lossy number. */
function firstLossyNumber(text: string): { literal: string; path: (string | number)[] } | null {
  const stack: Frame[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text.charCodeAt(i);
    if (c === 0x7b /* { */) {
      stack.push({ kind: 'object', key: null, expectKey: true });
      i++;
    } else if (c === 0x5b /* [ */) {
      stack.push({ kind: 'array', index: 0 });
      i++;
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      stack.pop();
      i++;
    } else if (c === 0x2c /* , */) {
      const top = stack[stack.length - 1];
      if (top?.kind === 'object') top.expectKey = true;
      else if (top?.kind === 'array') top.index++;
      i++;
    } else if (c === 0x3a /* : */) {
      const top = stack[stack.length - 1];
      if (top?.kind === 'object') top.expectKey = false;
      i++;
    } else if (c === 0x22 /* " */) {
      const end = stringEnd(text, i);
      const top = stack[stack.length - 1];
      if (top?.kind === 'object' && top.expectKey) top.key = JSON.parse(text.slice(i, end)) as string;
      i = end;
    } else if (c === 0x2d /* - */ || (c >= 0x30 && c <= 0x39)) {
      let end = i + 1;
      while (end < text.length && /[0-9.eE+-]/.test(text[end]!)) end++;
      const literal = text.slice(i, end);
      if (decimalOf(literal) !== decimalOf(String(Number(literal)))) {
        return { literal, path: stack.map((f) => (f.kind === 'array' ? f.index : (f.key ?? ''))) };
      }
      i = end;
    } else {
      i++; // whitespace, true, false, null
    }
  }
  return null;
}

/** Index just past the string starting at `start` (a quote), escapes skipped. */
export function stringEnd(text: string, start: number): number {
  let i = start + 1;
  while (i < text.length) {
    const c = text.charCodeAt(i);
    if (c === 0x5c /* \ */) i += 2;
    else if (c === 0x22) return i + 1;
    else i++;
  }
  return i;
}

/**
 * A number literal (JSON's, or String(number)'s "1e+21") as sign, significant digits and a
 * power of ten, so that "1.50", "15e-1" and "1.5" compare equal and every zero is "0".
 */
function decimalOf(literal: string): string {
  const negative = literal.startsWith('-');
  const body = negative ? literal.slice(1) : literal;
  const [mantissa = '', exponent = '0'] = body.split(/[eE]/);
  const [whole = '', fraction = ''] = mantissa.split('.');
  let digits = (whole + fraction).replace(/^0+/, '');
  if (digits === '') return '0';
  let power = Number(exponent) - fraction.length;
  const trimmed = digits.replace(/0+$/, '');
  power += digits.length - trimmed.length;
  digits = trimmed;
  return `${negative ? '-' : ''}${digits}e${power}`;
}

function clip(text: string): string {
  return text.length > 40 ? `${text.slice(0, 37)}…` : text;
}
