import { Transform, type Readable, type TransformCallback } from 'node:stream';
import { ErrorCode, JSONRPCMessageSchema, JSONRPCRequestSchema, RequestIdSchema, type JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import type { ProxyLogger } from './logger.ts';

// The MCP SDK's stdio transport drops a line it cannot read as a JSON-RPC message (not JSON,
// `params: null`, a malformed `_meta`, a member the schema does not know) with no answer at all:
// the agent that sent a request waits out its own timeout, however long, to learn nothing.
// stdin passes through this filter first. A request the SDK would drop is answered at once:
// Invalid Request (-32600) naming the member, or Parse error (-32700) for a line that is not JSON;
// only well-formed messages reach the SDK. What carries no id (a notification, a response to us)
// cannot be answered under JSON-RPC and is logged instead (at most once per LOG_EVERY_MS).

/** The SDK's own limit for one message (its ReadBuffer): beyond it the SDK closes the transport. */
const MAX_LINE_BYTES = 10 * 1024 * 1024;
const NEWLINE = 0x0a;
const LOG_EVERY_MS = 10_000;

/** Sends an answer; resolves once it is written or buffered below the output's high-water mark. */
export type Answer = (message: JSONRPCMessage) => Promise<void> | void;

export interface StdioMessages {
  /** What the SDK's transport reads. */
  messages: Readable;
  /** Stops reading `input` (unpiped and paused), so that the process can end while it is open. */
  stop(): void;
}

/** `input` with every line the SDK could not read taken out (and answered through `answer`). */
export function wellFormedMessages(input: Readable, answer: Answer, logger: ProxyLogger): StdioMessages {
  const line = new LineBuffer();
  const dropped = new DropLog(logger);
  let overflowed = false;

  const filter = new Transform({
    transform(chunk: Buffer, _encoding, done: TransformCallback) {
      if (overflowed) return done(null, chunk);
      const answers: Array<Promise<void>> = [];
      let start = 0;
      for (let nl = chunk.indexOf(NEWLINE); nl !== -1; nl = chunk.indexOf(NEWLINE, start)) {
        const text = line.take(chunk.subarray(start, nl));
        start = nl + 1;
        const verdict = readable(text);
        if (verdict === true) this.push(Buffer.concat([text, Buffer.from('\n')]));
        else if ('unanswerable' in verdict) dropped.count(verdict.method);
        else if (!('blank' in verdict)) answers.push(Promise.resolve(answer(verdict)));
      }
      if (start < chunk.length) {
        line.add(chunk.subarray(start));
        if (line.length > MAX_LINE_BYTES) {
          // Handed on as it is: the SDK refuses a message this long and closes, as without us.
          overflowed = true;
          return done(null, line.take(Buffer.alloc(0)));
        }
      }
      // Answers are written before more of stdin is read: a client that sends bad lines and never
      // reads stdout holds up its own input, instead of growing this process without bound.
      if (answers.length === 0) return done();
      Promise.all(answers).then(() => done(), done);
    },
  });
  input.pipe(filter);
  // The SDK's transport listens for errors on what it reads; stdin's own are passed on.
  const onError = (err: Error) => filter.destroy(err);
  input.on('error', onError);
  return {
    messages: filter,
    stop() {
      // Piped, stdin stays flowing (and keeps the process alive) after the transport stopped
      // reading the filter; the SDK's own transport pauses stdin when it closes.
      input.unpipe(filter);
      input.off('error', onError);
      input.pause();
    },
  };
}

type Skipped = { blank: true } | { unanswerable: true; method: string | undefined };

/** A line the SDK can read (true), one to skip, or the answer to send. */
function readable(line: Buffer): true | Skipped | JSONRPCMessage {
  const text = line.toString('utf8').replace(/\r$/, '');
  if (text.trim() === '') return { blank: true };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { jsonrpc: '2.0', error: { code: ErrorCode.ParseError, message: 'Parse error: the line is not JSON' } };
  }
  if (JSONRPCMessageSchema.safeParse(value).success) return true;
  if (Array.isArray(value)) {
    // A JSON-RPC batch, which MCP no longer has: its requests' ids are not looked into.
    return { jsonrpc: '2.0', error: { code: ErrorCode.InvalidRequest, message: 'Invalid Request: MCP takes one message per line, not a batch (an array)' } };
  }
  const id = RequestIdSchema.safeParse((value as { id?: unknown } | null)?.id);
  const method = (value as { method?: unknown } | null)?.method;
  if (id.success && typeof method === 'string') {
    return { jsonrpc: '2.0', id: id.data, error: { code: ErrorCode.InvalidRequest, message: `Invalid Request: ${firstProblem(value)}` } };
  }
  // A notification or a response: JSON-RPC has no answer for either.
  return { unanswerable: true, method: typeof method === 'string' ? method.slice(0, 100) : undefined };
}

/** The first thing wrong with a request, in one line, naming its member. */
function firstProblem(value: unknown): string {
  const parsed = JSONRPCRequestSchema.safeParse(value);
  const issue = parsed.success ? undefined : parsed.error.issues[0];
  if (!issue) return 'not a JSON-RPC request';
  const where = issue.path.length > 0 ? issue.path.map(String).join('.') : 'request';
  const keys = 'keys' in issue && Array.isArray(issue.keys) ? ` (${issue.keys.slice(0, 5).map(String).join(', ')})` : '';
  return `${where}: ${issue.message.split('\n')[0]!.slice(0, 200)}${keys}`;
}

/**
 * The unfinished line, in one buffer that doubles as it fills: a line arriving a byte at a time
 * costs its length (at most twice), not a Buffer object per read.
 */
class LineBuffer {
  private buffer = Buffer.alloc(0);
  length = 0;

  add(bytes: Buffer): void {
    if (this.length + bytes.length > this.buffer.length) {
      const grown = Buffer.allocUnsafe(Math.max(this.length + bytes.length, this.buffer.length * 2, 1024));
      this.buffer.copy(grown, 0, 0, this.length);
      this.buffer = grown;
    }
    bytes.copy(this.buffer, this.length);
    this.length += bytes.length;
  }

  /** The line so far followed by `end`, as a buffer of its own; empties this one. */
  take(end: Buffer): Buffer {
    if (this.length === 0) return end;
    const whole = Buffer.concat([this.buffer.subarray(0, this.length), end]);
    this.length = 0;
    // A long line's buffer is not kept for the short ones after it.
    if (this.buffer.length > 64 * 1024) this.buffer = Buffer.alloc(0);
    return whole;
  }
}

/** Logs dropped messages: the first at once, then a count at most once per LOG_EVERY_MS. */
class DropLog {
  private unlogged = 0;
  private lastAt = -Infinity;

  constructor(private readonly logger: ProxyLogger) {}

  count(method: string | undefined): void {
    this.unlogged += 1;
    const now = Date.now();
    if (now - this.lastAt < LOG_EVERY_MS) return;
    this.logger.warn({ method, dropped: this.unlogged }, 'mcp-proxy: dropped messages from the client that are not JSON-RPC MCP can read (notifications or responses: nothing to answer)');
    this.unlogged = 0;
    this.lastAt = now;
  }
}
