import { Transform, type Readable, type TransformCallback } from 'node:stream';
import { ErrorCode, JSONRPCMessageSchema, JSONRPCRequestSchema, RequestIdSchema, type JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import type { ProxyLogger } from './logger.ts';

// The MCP SDK's stdio transport drops a line it cannot read as a JSON-RPC message (not JSON,
// `params: null`, a malformed `_meta`, a member the schema does not know) with no answer at all:
// the agent that sent a request waits out its own timeout, however long, to learn nothing.
// stdin passes through this filter first. A request the SDK would drop is answered at once:
// Invalid Request (-32600) naming the member, or Parse error (-32700) for a line that is not JSON;
// only well-formed messages reach the SDK. What carries no id (a notification, a response to us)
// cannot be answered under JSON-RPC and is logged instead.

/** The SDK's own limit for one message (its ReadBuffer): beyond it the SDK closes the transport. */
const MAX_LINE_BYTES = 10 * 1024 * 1024;
const NEWLINE = 0x0a;

export type Answer = (message: JSONRPCMessage) => void;

/** `input` with every line the SDK could not read taken out (and answered through `answer`). */
export function wellFormedMessages(input: Readable, answer: Answer, logger: ProxyLogger): Readable {
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let overflowed = false;

  const filter = new Transform({
    transform(chunk: Buffer, _encoding, done: TransformCallback) {
      if (overflowed) return done(null, chunk);
      let start = 0;
      for (let nl = chunk.indexOf(NEWLINE); nl !== -1; nl = chunk.indexOf(NEWLINE, start)) {
        const line = pendingBytes > 0 ? Buffer.concat([...pending, chunk.subarray(start, nl)]) : chunk.subarray(start, nl);
        pending = [];
        pendingBytes = 0;
        start = nl + 1;
        if (readable(line, answer, logger)) this.push(Buffer.concat([line, Buffer.from('\n')]));
      }
      if (start < chunk.length) {
        const rest = chunk.subarray(start);
        pending.push(rest);
        pendingBytes += rest.length;
        if (pendingBytes > MAX_LINE_BYTES) {
          // Handed on as it is: the SDK refuses a message this long and closes, as without us.
          overflowed = true;
          const all = Buffer.concat(pending);
          pending = [];
          pendingBytes = 0;
          return done(null, all);
        }
      }
      done();
    },
  });
  input.pipe(filter);
  // The SDK's transport listens for errors on what it reads; stdin's own are passed on.
  input.on('error', (err) => filter.destroy(err));
  return filter;
}

/** Whether the SDK can read `line`; if not, its sender is answered (or it is logged). */
function readable(line: Buffer, answer: Answer, logger: ProxyLogger): boolean {
  const text = line.toString('utf8').replace(/\r$/, '');
  if (text.trim() === '') return false;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    answer({ jsonrpc: '2.0', error: { code: ErrorCode.ParseError, message: 'Parse error: the line is not JSON' } });
    return false;
  }
  if (JSONRPCMessageSchema.safeParse(value).success) return true;
  if (Array.isArray(value)) {
    // A JSON-RPC batch, which MCP no longer has: its requests' ids are not looked into.
    answer({ jsonrpc: '2.0', error: { code: ErrorCode.InvalidRequest, message: 'Invalid Request: MCP takes one message per line, not a batch (an array)' } });
    return false;
  }

  const id = RequestIdSchema.safeParse((value as { id?: unknown } | null)?.id);
  const method = (value as { method?: unknown } | null)?.method;
  if (id.success && typeof method === 'string') {
    answer({ jsonrpc: '2.0', id: id.data, error: { code: ErrorCode.InvalidRequest, message: `Invalid Request: ${firstProblem(value)}` } });
  } else {
    // A notification or a response: JSON-RPC has no answer for either.
    logger.warn({ method: typeof method === 'string' ? method.slice(0, 100) : undefined }, 'mcp-proxy: dropped a message from the client that is not JSON-RPC MCP can read');
  }
  return false;
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
