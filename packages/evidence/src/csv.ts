import type { ArtifactEvent, SealedArtifact } from '@countersign/contracts';
import { TRAILER_TYPE, type ExportTrailer } from './trailer.ts';
import type { RecordSubject } from './subject.ts';

/**
 * CSV form of an export (RFC 4180). Same content as JSONL: one artifact per row, the signed
 * trailer as the final row with kind `export.trailer`. Rows are returned WITHOUT a line
 * terminator; join them with "\r\n" (RFC 4180) — verify also accepts "\n".
 *
 * Columns are found by their name in the header, so a spreadsheet may add its own. Three
 * kinds of column:
 * - the record (CSV_RECORD_COLUMNS): what verification checks, as in the JSONL line;
 * - read from the signed body (CSV_SIGNED_COLUMNS): for people; verify recomputes each from
 *   the signed `canonical` and refuses a row where one differs;
 * - what was approved (CSV_SUBJECT_COLUMNS) and any other column: the unsigned `subject`
 *   annotation, informational only; verify never trusts nor checks it.
 */
export const CSV_RECORD_COLUMNS = ['seq', 'at', 'kind', 'actionId', 'hash', 'prevHash', 'keyId', 'signature', 'canonical'] as const;
export const CSV_SIGNED_COLUMNS = ['actionType', 'actor', 'onBehalfOf', 'decision', 'reason', 'channel'] as const;
export const CSV_SUBJECT_COLUMNS = ['resource', 'summary', 'params'] as const;
export const CSV_COLUMNS = [
  'seq', 'at', 'kind', 'actionId', ...CSV_SIGNED_COLUMNS, ...CSV_SUBJECT_COLUMNS, 'hash', 'prevHash', 'keyId', 'signature', 'canonical',
] as const;

type SignedColumn = (typeof CSV_SIGNED_COLUMNS)[number];
export type SignedColumns = Record<SignedColumn, string>;

export function exportCsvHeader(): string {
  return CSV_COLUMNS.join(',');
}

/**
 * The columns a CSV row shows from an artifact's signed event (empty where the kind has none):
 * `actor` is who acted (the requester of an escalation, the voter, the decider of a decision:
 * a person id, `policy` or `system`; the overrider, the redeeming principal, a key's principal),
 * `decision` a vote's approve/deny, a decision's or override's status, an execution's result.
 */
export function signedColumnsOf(event: ArtifactEvent): SignedColumns {
  const c: SignedColumns = { actionType: 'actionType' in event ? event.actionType : '', actor: '', onBehalfOf: '', decision: '', reason: '', channel: '' };
  switch (event.kind) {
    case 'action.escalated':
      return { ...c, actor: event.actor.id, onBehalfOf: event.onBehalfOf ?? '', reason: event.reasons.join('; ') };
    case 'vote.recorded':
      return { ...c, actor: event.personId, decision: event.decision, reason: event.reason ?? '', channel: event.channel };
    case 'action.decided':
      return { ...c, actor: event.decidedBy, onBehalfOf: event.onBehalfOf ?? '', decision: event.status, reason: event.reasons.join('; ') };
    case 'action.overridden':
      return { ...c, actor: event.personId, decision: event.status, reason: event.reason };
    case 'action.executed':
      return { ...c, decision: event.result };
    case 'release.redeemed':
      return { ...c, actor: event.redeemedBy };
    case 'key.created':
    case 'key.revoked':
      return { ...c, actor: event.principalId };
    default:
      return c;
  }
}

// A spreadsheet opening the file evaluates a cell that begins with one of these as a formula
// (OWASP "CSV injection"): `=HYPERLINK(...)` in an agent's summary would run on a compliance
// officer's machine. Also after leading spaces (an import that trims them), and a value that
// already begins with an apostrophe is prefixed too, so that each written cell stands for
// exactly one value (`=x` → `'=x`, `'=x` → `''=x`).
const FORMULA = /^(?:[=+\-@\t\r]|\s+[=+\-@])/;

/** A cell a spreadsheet would run as a formula (one that begins with an apostrophe is text). */
export function runsAsFormula(cell: string): boolean {
  return FORMULA.test(cell);
}

/**
 * How a cell shown for people (signed-body and subject columns) is written: a value a
 * spreadsheet would take for a formula gets a leading apostrophe, which spreadsheets read as
 * "this is text". `verify` accepts a signed-body cell written either way. Record columns are
 * never changed: verification reads them exactly (none holds free text; `canonical` is JSON).
 * This protects a file read as RFC 4180 says (comma-separated); a spreadsheet told to split on
 * `;` or tab cuts cells inside values, the signed `canonical` JSON included (README, Evidence).
 */
export function spreadsheetText(value: string): string {
  return runsAsFormula(value) || value.startsWith("'") ? `'${value}` : value;
}

/** A signed-body cell shows `signed`: as exported (spreadsheetText), or as the raw value (exports made before it). */
export function cellShows(cell: string | undefined, signed: string): boolean {
  return cell === signed || cell === spreadsheetText(signed);
}

/** One artifact as a row; its unsigned subject annotation (what was approved) when given. */
export function recordToCsvRow(a: SealedArtifact, subject: RecordSubject | null): string {
  const signed = signedColumnsOf((JSON.parse(a.canonical) as { event: ArtifactEvent }).event);
  const shown = (value: string | null | undefined): string | null => (value === null || value === undefined ? null : spreadsheetText(value));
  const cells: Record<(typeof CSV_COLUMNS)[number], string | number | null> = {
    seq: a.seq, at: a.at, kind: a.kind, actionId: a.actionId,
    actionType: shown(signed.actionType), actor: shown(signed.actor), onBehalfOf: shown(signed.onBehalfOf),
    decision: shown(signed.decision), reason: shown(signed.reason), channel: shown(signed.channel),
    resource: shown(subject?.resource),
    summary: shown(subject?.summary),
    params: subject ? shown(JSON.stringify(subject.params)) : null,
    hash: a.hash, prevHash: a.prevHash, keyId: a.keyId, signature: a.signature, canonical: a.canonical,
  };
  return toCsvRow(CSV_COLUMNS.map((name) => cells[name]));
}

/** One artifact as a row, without annotation. */
export function artifactToCsvRow(a: SealedArtifact): string {
  return recordToCsvRow(a, null);
}

export function trailerToCsvRow(t: ExportTrailer): string {
  const cells: Partial<Record<(typeof CSV_COLUMNS)[number], string>> = { kind: TRAILER_TYPE, keyId: t.keyId, signature: t.signature, canonical: t.canonical };
  return toCsvRow(CSV_COLUMNS.map((name) => cells[name] ?? null));
}

/** One RFC 4180 row; null becomes an empty field. */
export function toCsvRow(fields: ReadonlyArray<string | number | null>): string {
  return fields.map(csvField).join(',');
}

function csvField(value: string | number | null): string {
  if (value === null) return '';
  const text = String(value);
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/**
 * Parse one RFC 4180 record. Returns null when the text ends inside a quoted field (the
 * record continues on the next line), throws on malformed quoting.
 */
export function parseCsvRecord(text: string): string[] | null {
  const fields: string[] = [];
  let i = 0;
  for (;;) {
    if (text.charCodeAt(i) === 34 /* " */) {
      let value = '';
      let start = i + 1;
      for (;;) {
        const quote = text.indexOf('"', start);
        if (quote === -1) return null;
        value += text.slice(start, quote);
        if (text.charCodeAt(quote + 1) === 34) {
          value += '"';
          start = quote + 2;
          continue;
        }
        i = quote + 1;
        break;
      }
      fields.push(value);
    } else {
      const comma = text.indexOf(',', i);
      const end = comma === -1 ? text.length : comma;
      const value = text.slice(i, end);
      if (value.includes('"')) throw new Error(`quote inside unquoted field ${fields.length + 1}`);
      fields.push(value);
      i = end;
    }
    if (i === text.length) return fields;
    if (text.charCodeAt(i) !== 44 /* , */) throw new Error(`unexpected character after quoted field ${fields.length}`);
    i += 1;
  }
}

/** Where each column is, from the header row. */
export interface CsvLayout {
  index: Map<string, number>;
  width: number;
  /** Signed-body columns present in this header (checked against the signed body). */
  signed: SignedColumn[];
  /** Every other non-record column: annotation, never checked. */
  annotations: string[];
}

/**
 * The header's layout: every record column exactly once, in any order; any other column is
 * allowed (a signed-body column is checked, the rest are annotations).
 */
export function csvLayout(header: string[]): { ok: true; layout: CsvLayout } | { ok: false; message: string } {
  const index = new Map<string, number>();
  for (const [i, name] of header.entries()) {
    if (index.has(name)) return { ok: false, message: `column "${name}" appears twice in the header` };
    index.set(name, i);
  }
  for (const name of header) {
    const like = lookalikeOf(name);
    if (like) return { ok: false, message: `column ${shownColumn(name)} looks like "${like}" but is spelled differently: a renamed column would go unchecked` };
  }
  const missing = CSV_RECORD_COLUMNS.filter((name) => !index.has(name));
  if (missing.length > 0) return { ok: false, message: `the header lacks the column${missing.length > 1 ? 's' : ''} ${missing.join(', ')}` };
  const record = new Set<string>(CSV_RECORD_COLUMNS);
  const signedNames = new Set<string>(CSV_SIGNED_COLUMNS);
  return {
    ok: true,
    layout: {
      index,
      width: header.length,
      signed: CSV_SIGNED_COLUMNS.filter((name) => index.has(name)),
      annotations: header.filter((name) => !record.has(name) && !signedNames.has(name)),
    },
  };
}

// Letters of other scripts drawn like the Latin ones our column names use (lower-cased first,
// so the capitals are covered by their small forms), and Latin letters and digits drawn like
// each other: i, l, 1 and | as one stroke, 0 as o.
const CONFUSABLE: Record<string, string> = {
  а: 'a', в: 'b', с: 'c', ԁ: 'd', е: 'e', ё: 'e', һ: 'h', н: 'h', і: 'l', ї: 'l', ј: 'j', к: 'k', ӏ: 'l', м: 'm', о: 'o', р: 'p', ԛ: 'q', ѕ: 's', т: 't', у: 'y', х: 'x', ԝ: 'w',
  α: 'a', β: 'b', ϲ: 'c', ε: 'e', η: 'n', ι: 'l', κ: 'k', ν: 'v', ο: 'o', ρ: 'p', τ: 't', υ: 'u', χ: 'x',
  օ: 'o', ո: 'n', ս: 'u', ց: 'g', հ: 'h', ք: 'p', ı: 'l',
  i: 'l', '1': 'l', '|': 'l', '!': 'l', '0': 'o',
};
// Bidirectional controls: a name may be stored backwards and shown forwards.
const BIDI_CONTROL = /[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/u;
// Columns whose look-alike could pass for checked evidence: the record's and the signed body's
// (the subject columns are annotations themselves).
const KNOWN_SKELETONS: Array<[string, string]> = [...CSV_RECORD_COLUMNS, ...CSV_SIGNED_COLUMNS].map((name) => [skeletonOf(name), name]);

/**
 * What a column name reads as to a person: compatibility forms folded (fullwidth, bold
 * letters), lower case, accents, spaces, punctuation and invisible characters (format
 * controls, fillers) gone, look-alike characters as one, and any other letter or digit as `?`
 * (it may be drawn like a Latin one).
 */
function skeletonOf(name: string): string {
  let out = '';
  for (const ch of name.normalize('NFKD').toLowerCase()) {
    if (/\p{Default_Ignorable_Code_Point}/u.test(ch)) continue;
    const latin = CONFUSABLE[ch] ?? ch;
    if (/[a-z0-9]/.test(latin)) out += latin;
    else if (/[\p{L}\p{N}]/u.test(latin)) out += '?';
  }
  return out;
}

/**
 * The export's own column a header cell is made to look like, when it is not that column: a
 * signed-body column renamed with an invisible character, another case or a look-alike letter
 * becomes an annotation nobody checks, while a person reading the file takes it for the
 * checked one. Refused, so `decision` cells cannot be forged that way. A letter of another
 * script stands for any one letter, up to half of them (a name in another language is its
 * own name, not a disguise).
 */
function lookalikeOf(name: string): string | null {
  const forwards = skeletonOf(name);
  const skeletons = BIDI_CONTROL.test(name) ? [forwards, [...forwards].reverse().join('')] : [forwards];
  for (const skeleton of skeletons) {
    const unknown = skeleton.split('?').length - 1;
    if (unknown * 2 > skeleton.length) continue;
    for (const [known, column] of KNOWN_SKELETONS) {
      if (known.length !== skeleton.length || column === name) continue;
      let same = true;
      for (let i = 0; i < known.length && same; i++) same = skeleton[i] === '?' || skeleton[i] === known[i];
      if (same) return column;
    }
  }
  return null;
}

const SUBJECT_COLUMNS = new Set<string>(CSV_SUBJECT_COLUMNS);

/** Of a header's annotation columns, those the export does not write itself. */
export function addedColumns(annotations: readonly string[]): string[] {
  return annotations.filter((name) => !SUBJECT_COLUMNS.has(name));
}

/**
 * A header cell in a message: quoted, anything but printable ASCII as a \u escape (an
 * invisible character must show); a name over 200 characters shows its start and its end.
 */
export function shownColumn(name: string): string {
  const escaped = name.replace(/[^\x20-\x7e]|["\\]/g, (ch) => (ch === '"' || ch === '\\' ? `\\${ch}` : `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`));
  return `"${escaped.length > 200 ? `${escaped.slice(0, 120)}…(${escaped.length - 180} more)…${escaped.slice(-60)}` : escaped}"`;
}

/** A CSV row as a JSONL-shaped record, plus its signed-body columns (to be checked) and whether it carries annotation. */
export interface CsvRecord {
  raw: Record<string, unknown>;
  signed: Partial<SignedColumns>;
  annotated: boolean;
  /**
   * A shown cell (signed-body or annotation column) a spreadsheet would run as a formula: the
   * export writes none (spreadsheetText), so the file was edited or made before that. It may
   * still verify (the raw form of a signed value is accepted); verify says so.
   */
  formula: boolean;
}

/** A CSV row turned back into the JSONL line shape, so one verifier checks both formats. */
export function csvFieldsToRecord(fields: string[], layout: CsvLayout): CsvRecord {
  if (fields.length !== layout.width) throw new Error(`expected ${layout.width} fields, got ${fields.length}`);
  const cell = (name: string): string => fields[layout.index.get(name)!]!;
  const [seq, at, kind, actionId, hash, prevHash, keyId, signature, canonical] = CSV_RECORD_COLUMNS.map(cell) as [
    string, string, string, string, string, string, string, string, string,
  ];
  const signed: Partial<SignedColumns> = {};
  for (const name of layout.signed) signed[name] = cell(name);
  const annotated = layout.annotations.some((name) => cell(name) !== '');
  if (kind === TRAILER_TYPE) {
    if (seq || at || actionId || hash || prevHash) throw new Error('trailer row must leave seq, at, actionId, hash and prevHash empty');
    if (annotated || layout.signed.some((name) => cell(name) !== '')) throw new Error('trailer row must leave the record\'s other columns empty');
    return { raw: { type: TRAILER_TYPE, canonical, signature, keyId }, signed: {}, annotated: false, formula: false };
  }
  if (!/^[1-9][0-9]*$/.test(seq)) throw new Error(`seq "${seq}" is not a positive integer`);
  return {
    raw: { seq: Number(seq), kind, actionId: actionId === '' ? null : actionId, at, canonical, hash, prevHash, signature, keyId },
    signed,
    annotated,
    formula: layout.signed.some((name) => runsAsFormula(cell(name))) || layout.annotations.some((name) => runsAsFormula(cell(name))),
  };
}
