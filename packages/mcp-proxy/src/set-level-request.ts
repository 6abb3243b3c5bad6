import { ErrorCode, LoggingLevelSchema } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';

// The schema the proxy registers logging/setLevel with over stdio, where it forwards the level
// to the upstream (whose log messages it relays to its one client). The SDK's own handler for a
// server declaring logging stores the level and answers {}, so the upstream never heard of it
// and went on logging at its own level. Like tool-call-request.ts, a bad level is answered
// -32602 naming the field, not -32603 with the validator's dump.

class InvalidParams extends Error {
  readonly code = ErrorCode.InvalidParams;
}

const LEVELS = LoggingLevelSchema.options.join(', ');

export const SetLevelRequest = z.looseObject({ method: z.literal('logging/setLevel') }).superRefine((request) => {
  const level = (request as { params?: { level?: unknown } }).params?.level;
  if (!LoggingLevelSchema.safeParse(level).success) throw new InvalidParams(`logging/setLevel: params.level must be one of ${LEVELS}`);
});

/** The level a request that passed SetLevelRequest names. */
export function requestedLevel(request: unknown): z.infer<typeof LoggingLevelSchema> {
  return LoggingLevelSchema.parse((request as { params: { level: unknown } }).params.level);
}
