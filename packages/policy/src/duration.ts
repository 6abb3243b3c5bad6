// Durations in policy files are written the way people say them: 30s, 10m, 4h, 2d, or
// compounds like 1h30m. Bare numbers are rejected: "30" could mean seconds or minutes.
const UNIT_SECONDS = { s: 1, m: 60, h: 3600, d: 86_400 } as const;
const DURATION = /^(?:\d+[smhd])+$/;

/** Seconds in `text`, or undefined when it is not a duration. */
export function parseDuration(text: string): number | undefined {
  const trimmed = text.trim();
  if (!DURATION.test(trimmed)) return undefined;
  let seconds = 0;
  for (const [, amount, unit] of trimmed.matchAll(/(\d+)([smhd])/g)) {
    seconds += Number(amount) * UNIT_SECONDS[unit as keyof typeof UNIT_SECONDS];
  }
  return Number.isSafeInteger(seconds) ? seconds : undefined;
}
