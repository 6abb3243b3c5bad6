import { DomainError } from '@countersign/contracts';

export interface PemBlock {
  label: string;
  pem: string;
}

const BEGIN = '-----BEGIN ';
const END = '-----END ';
const DASHES = '-----';

/**
 * Split text holding one or more concatenated PEM blocks. Environment variables often carry
 * PEM with literal `\n` escapes (one-line secrets), so those are turned back into newlines.
 *
 * The blocks are exactly what `/-----BEGIN ([A-Z0-9 ]+)-----[\s\S]*?-----END \1-----/g` finds
 * with matchAll, including on nonsense (a block running across another label's BEGIN, BEGINs
 * inside a block skipped). That regex searched to the end of the text again from every BEGIN
 * without its END: a key file of 1 MB of BEGIN lines took 10 s (×4 per doubling). Here every
 * END marker is found once up front, so the whole split is linear.
 */
export function pemBlocks(text: string): PemBlock[] {
  const normalised = !text.includes('\n') && text.includes('\\n') ? text.replaceAll('\\n', '\n') : text;
  const ends = endMarkers(normalised);
  const blocks: PemBlock[] = [];
  let from = 0;
  for (let begin = normalised.indexOf(BEGIN); begin !== -1; begin = normalised.indexOf(BEGIN, from)) {
    // As the regex: the match starting here, else the search goes on from the next character.
    from = begin + 1;
    const label = labelAt(normalised, begin + BEGIN.length);
    const end = label === undefined ? undefined : ends.get(label);
    if (label === undefined || end === undefined) continue;
    // The first END of this label at or after the header's end (the lazy `[\s\S]*?`). Headers
    // come in increasing order, so each label's cursor only moves forward.
    const bodyStart = begin + BEGIN.length + label.length + DASHES.length;
    while (end.next < end.at.length && end.at[end.next]! < bodyStart) end.next++;
    if (end.next === end.at.length) continue;
    const stop = end.at[end.next]! + END.length + label.length + DASHES.length;
    blocks.push({ label, pem: `${normalised.slice(begin, stop)}\n` });
    from = stop; // matchAll goes on after the match
  }
  if (blocks.length === 0) throw new DomainError('internal', 'no PEM block found');
  return blocks;
}

/**
 * Where each `-----END <label>-----` starts, by label. A label never holds '-', so the one an
 * END marker closes is the whole run of [A-Z0-9 ] after "-----END ", followed by "-----".
 */
function endMarkers(text: string): Map<string, { at: number[]; next: number }> {
  const ends = new Map<string, { at: number[]; next: number }>();
  for (let at = text.indexOf(END); at !== -1; at = text.indexOf(END, at + 1)) {
    const label = labelAt(text, at + END.length);
    if (label === undefined) continue;
    const list = ends.get(label);
    if (list) list.at.push(at);
    else ends.set(label, { at: [at], next: 0 });
  }
  return ends;
}

/**
 * The run of [A-Z0-9 ] from `start` if it is not empty and "-----" follows it, else undefined.
 * The run stops at the '-' that starts any later marker, so runs read for different markers
 * never overlap: reading them all is linear.
 */
function labelAt(text: string, start: number): string | undefined {
  let i = start;
  for (; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (!((c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c === 32)) break; // A-Z 0-9 space
  }
  return i > start && text.startsWith(DASHES, i) ? text.slice(start, i) : undefined;
}
