import { z } from 'zod';

// Settings from the environment, parsed once at boot with a zod schema per part of the service
// (the server, each module). A bad value stops the service naming the variable and the reason,
// never echoing the value: tokens and secrets are among them.

/** A variable is missing or malformed; the message names every one that is. */
export class SettingsError extends Error {
  override name = 'SettingsError';
}

/**
 * `schema` applied to `env`, or a SettingsError listing every problem. `part` says whose
 * settings they are ("worker", "Slack", …) in the message.
 */
export function parseEnv<S extends z.ZodType>(schema: S, env: NodeJS.ProcessEnv, part?: string): z.output<S> {
  const parsed = schema.safeParse(env);
  if (parsed.success) return parsed.data;
  throw new SettingsError(`invalid ${part ? `${part} ` : ''}configuration:\n${z.prettifyError(parsed.error)}`);
}

/** A comma-separated list, trimmed, empty entries dropped: "a, b,,c" → ["a", "b", "c"]. */
export function commaList(fallback = '') {
  return z.string().default(fallback).transform(splitList);
}

export function splitList(text: string): string[] {
  return text
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean);
}

/** An issue on `variable` from a cross-variable rule (inside a schema's superRefine / transform). */
export function settingsIssue<T>(ctx: z.core.$RefinementCtx<T>, variable: string, message: string): void {
  ctx.addIssue({ code: 'custom', path: [variable], message });
}
