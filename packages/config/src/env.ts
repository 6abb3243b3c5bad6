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

/**
 * COUNTERSIGN_POLICY or COUNTERSIGN_DIRECTORY as a module reads it: an empty value (`VAR=` in a
 * Compose or env file) counts as unset, as the service's own settings read it; resolved, an
 * empty path would be the working folder itself.
 */
export function configFilePath(fallback: string) {
  return z.preprocess((value) => (value === '' ? undefined : value), z.string().default(fallback));
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

/** A variable named like one of ours that nothing reads; `suggestion` when it is a near miss. */
export interface StrayVariable {
  name: string;
  suggestion?: string;
}

/**
 * Variables named `prefix…` (any letter case) that are not in `known` nor under one of the
 * open-ended `families` (e.g. COUNTERSIGN_EXECUTOR_SECRET_). Without this a misspelt name is
 * silently ignored, and some settings fail open that way: COUNTERSIGN_METRICS_TOKNE leaves
 * /metrics unauthenticated. A name within two edits (a transposition is one) of a known name,
 * or equal to it but for letter case, carries that name as its suggestion; the caller stops on
 * those (misspeltVariablesError) and may only warn about the rest (a client's variable such
 * as COUNTERSIGN_TOKEN can share the environment).
 */
export function strayVariables(env: NodeJS.ProcessEnv, known: Iterable<string>, options: { prefix: string; families?: readonly string[] }): StrayVariable[] {
  const names = new Set(known);
  const prefix = options.prefix.toUpperCase();
  const strays: StrayVariable[] = [];
  for (const name of Object.keys(env).sort()) {
    const upper = name.toUpperCase();
    if (!upper.startsWith(prefix) || names.has(name)) continue;
    if ((options.families ?? []).some((family) => name.startsWith(family) && name.length > family.length)) continue;
    const suggestion = names.has(upper) ? upper : closest(upper, names);
    strays.push(suggestion ? { name, suggestion } : { name });
  }
  return strays;
}

/** The near misses among `strays` as one SettingsError naming each (never its value), or undefined. */
export function misspeltVariablesError(strays: readonly StrayVariable[]): SettingsError | undefined {
  const misspelt = strays.filter((s) => s.suggestion);
  if (misspelt.length === 0) return undefined;
  const lines = misspelt.map((s) => `✖ not a setting: did you mean ${s.suggestion}?\n  → at ${s.name}`);
  return new SettingsError(`invalid configuration:\n${lines.join('\n')}`);
}

function closest(name: string, known: Set<string>): string | undefined {
  let best: string | undefined;
  let bestDistance = 3;
  for (const candidate of [...known].sort()) {
    const distance = editDistance(name, candidate.toUpperCase());
    if (distance < bestDistance) [best, bestDistance] = [candidate, distance];
  }
  return best;
}

/** Optimal string alignment distance: insertions, deletions, substitutions, adjacent swaps. */
function editDistance(a: string, b: string): number {
  if (Math.abs(a.length - b.length) > 2) return 3;
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i]![j] = Math.min(d[i]![j]!, d[i - 2]![j - 2]! + 1);
    }
  }
  return d[a.length]![b.length]!;
}
