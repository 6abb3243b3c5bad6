/**
 * Split a byte or text stream into lines without loading it whole: exports can be large.
 * Decodes UTF-8 across chunk boundaries; a final line without a newline is still yielded
 * (a cut-off export must reach the verifier, not vanish). Invalid UTF-8 is decoded as U+FFFD
 * so the damaged line fails its hash check and is named, instead of aborting the read.
 */
export async function* linesOf(stream: AsyncIterable<Uint8Array | string>): AsyncGenerator<string> {
  // The BOM is kept, as in a line handed over as text: the reader drops one at the start of the
  // export, so a second one is not silently dropped here too (it is a character of line 1).
  const decoder = new TextDecoder('utf-8', { ignoreBOM: true });
  // The line begun in earlier chunks, in pieces: joined once, when its newline comes. Appending
  // each chunk to one string and searching it from its start rescanned (and copied) the whole
  // line at every chunk: a 64 MB line without a break took 105 s to read.
  const pieces: string[] = [];
  const lineEndingIn = (text: string, nl: number, start: number): string => {
    if (pieces.length === 0) return text.slice(start, nl);
    pieces.push(text.slice(start, nl));
    const line = pieces.join('');
    pieces.length = 0;
    return line;
  };
  for await (const chunk of stream) {
    const text = typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true });
    let start = 0;
    for (let nl = text.indexOf('\n'); nl !== -1; nl = text.indexOf('\n', start)) {
      yield lineEndingIn(text, nl, start);
      start = nl + 1;
    }
    if (start < text.length) pieces.push(start === 0 ? text : text.slice(start));
  }
  const last = decoder.decode();
  if (last !== '') pieces.push(last);
  if (pieces.length > 0) yield pieces.join('');
}
