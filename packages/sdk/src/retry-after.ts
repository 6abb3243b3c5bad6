// Retry-After (RFC 9110 §10.2.3), the one parser for every outbound call countersign makes and
// for this SDK: the server's wish is honoured up to a cap, so a bogus or hostile header cannot
// park a job or a client for days. Kept dependency-free: the server's modules import it from
// here (the SDK is published on its own and may not depend on them).

/** The longest wait any Retry-After header can ask for: one hour. */
export const MAX_RETRY_AFTER_MS = 3_600_000;

/**
 * Milliseconds to wait from a Retry-After value (delta-seconds or an HTTP date), at most
 * MAX_RETRY_AFTER_MS, never negative; undefined when absent or unreadable.
 */
export function retryAfterMs(value: string | null | undefined, now: number = Date.now()): number | undefined {
  const text = value?.trim();
  if (!text) return undefined;
  let ms: number;
  if (/^\d+(\.\d+)?$/.test(text)) ms = Number(text) * 1000;
  else {
    // An HTTP date names its day and month; Date.parse would read "-1" or "5x" as some year.
    const at = /[a-z]/i.test(text) ? Date.parse(text) : Number.NaN;
    if (Number.isNaN(at)) return undefined;
    ms = at - now;
  }
  return Math.min(Math.max(0, Math.round(ms)), MAX_RETRY_AFTER_MS);
}
