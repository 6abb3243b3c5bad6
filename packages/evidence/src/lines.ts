/**
 * Split a byte or text stream into lines without loading it whole: exports can be large.
 * Decodes UTF-8 across chunk boundaries; a final line without a newline is still yielded
 * (a cut-off export must reach the verifier, not vanish). Invalid UTF-8 is decoded as U+FFFD
 * so the damaged line fails its hash check and is named, instead of aborting the read.
 */
export async function* linesOf(stream: AsyncIterable<Uint8Array | string>): AsyncGenerator<string> {
  const decoder = new TextDecoder('utf-8');
  let rest = '';
  for await (const chunk of stream) {
    rest += typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true });
    let start = 0;
    for (let nl = rest.indexOf('\n'); nl !== -1; nl = rest.indexOf('\n', start)) {
      yield rest.slice(start, nl);
      start = nl + 1;
    }
    rest = rest.slice(start);
  }
  rest += decoder.decode();
  if (rest !== '') yield rest;
}
