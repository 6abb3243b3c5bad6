import type { ArtifactBody, ArtifactEvent } from '@countersign/contracts';
import { safeParseArtifactEvent } from '@countersign/contracts/artifact';

// What a sealed artifact's signed body must look like. Checked by hand rather than with a zod
// object: verification runs this per record, and only the event union needs zod's detail.
export const HASH_HEX = /^[0-9a-f]{64}$/;
export const ISO_MS_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const BODY_KEYS = ['at', 'event', 'keyId', 'prevHash', 'seq', 'v'];

export type Checked<T> = { ok: true; value: T } | { ok: false; message: string };

export function isSeq(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 1;
}

export function checkEvent(event: unknown): Checked<ArtifactEvent> {
  const parsed = safeParseArtifactEvent(event);
  if (parsed.success) return { ok: true, value: parsed.data };
  const issue = parsed.error.issues[0];
  const where = issue && issue.path.length > 0 ? `event.${issue.path.join('.')}: ` : 'event: ';
  return { ok: false, message: `${where}${issue?.message ?? 'invalid'}` };
}

/** `value` as an object with exactly these fields (`sorted` in code-point order), or why not. */
export function exactFields(value: unknown, sorted: readonly string[], what: string): Checked<Record<string, unknown>> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return fail(`${what} is not an object`);
  const keys = Object.keys(value).sort();
  if (keys.length !== sorted.length || keys.some((key, i) => key !== sorted[i])) {
    return fail(`${what} fields must be exactly ${sorted.join(', ')}; got ${keys.join(', ')}`);
  }
  return { ok: true, value: value as Record<string, unknown> };
}

export function checkArtifactBody(value: unknown): Checked<ArtifactBody> {
  const fields = exactFields(value, BODY_KEYS, 'body');
  if (!fields.ok) return fields;
  const body = fields.value;
  if (body.v !== 1) return fail(`unsupported body version ${JSON.stringify(body.v)}`);
  if (!isSeq(body.seq)) return fail('seq must be a positive integer');
  if (typeof body.prevHash !== 'string' || !HASH_HEX.test(body.prevHash)) return fail('prevHash must be 64 lowercase hex');
  if (typeof body.at !== 'string' || !ISO_MS_UTC.test(body.at) || Number.isNaN(Date.parse(body.at))) {
    return fail('at must be an ISO-8601 UTC timestamp with milliseconds');
  }
  if (typeof body.keyId !== 'string' || body.keyId === '') return fail('keyId must be a non-empty string');
  const event = checkEvent(body.event);
  if (!event.ok) return event;
  return { ok: true, value: body as unknown as ArtifactBody };
}

/** The outer actionId column: the event's action, null for key and config events. */
export function actionIdOf(event: ArtifactEvent): string | null {
  return 'actionId' in event ? event.actionId : null;
}

function fail(message: string): { ok: false; message: string } {
  return { ok: false, message };
}
