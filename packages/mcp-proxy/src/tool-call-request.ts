import { ErrorCode } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';

// The schema the proxy registers tools/call with. The MCP SDK parses a request with its
// handler's schema before anything else and answers a request that fails it with -32603
// Internal error; its own check inside (-32602 Invalid params) then dumps the validator's issues
// as the message. This one names the field a client got wrong, in one line, as -32602; whatever
// else is wrong (`_meta`, `task`) is left to the SDK's check, which follows.

/** An error the SDK answers with its `code` and `message` as they are (JSON-RPC Invalid params). */
class InvalidParams extends Error {
  readonly code = ErrorCode.InvalidParams;
}

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

// A refinement, not a transform: the SDK reads the method from the schema's shape, which a
// transform would hide. It throws rather than adding an issue, so that the SDK answers with
// this error's code and message.
export const ToolsCallRequest = z.looseObject({ method: z.literal('tools/call') }).superRefine((request) => {
  const params = (request as { params?: unknown }).params;
  if (!isObject(params)) throw new InvalidParams('tools/call: params must be an object with the tool\'s name and arguments');
  if (typeof params.name !== 'string') throw new InvalidParams('tools/call: params.name must be a string (the tool to call)');
  if (params.arguments !== undefined && !isObject(params.arguments)) {
    throw new InvalidParams('tools/call: params.arguments must be an object (the tool\'s arguments by name)');
  }
});
