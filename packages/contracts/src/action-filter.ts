import { z } from 'zod';
import { IdPatternSchema } from './directory.ts';
import { ActionTypeSchema } from './intent.ts';

// The list's filters as query parameters: GET /v1/actions, GET /v1/audit/export and the
// console's history form all parse them with these schemas, so bad input gets the same
// field-precise problem everywhere.

const STATUSES = ['pending', 'approved', 'refused', 'expired', 'cancelled'] as const;

// Dates are bounded to 1970-01-01T00:00:00Z up to (not including) year 10000 UTC. ISO-8601 and
// zod allow year 0000 and offsets that push year 0001 or 9999 past the edge, but Postgres'
// timestamptz has no year 0 and refuses it (22008), which used to surface as a 500. Nothing in
// the gate predates the Unix epoch, so the floor costs no real query; the ceiling is the last
// four-digit year. The bound applies to the instant (offset applied), the one Postgres sees.
export const FILTER_EARLIEST = new Date('1970-01-01T00:00:00Z');
export const FILTER_LATEST_EXCLUSIVE = new Date(Date.UTC(10000, 0, 1));
const RANGE_MESSAGE = 'a date between 1970-01-01 and 9999-12-31 (UTC)';

/** The instant a filter date stands for: a calendar date is midnight UTC. */
export function filterInstant(value: string): Date {
  return new Date(value.length === 10 ? `${value}T00:00:00Z` : value);
}

/** Whether an instant is in the filters' range (what Postgres' timestamptz and the gate can hold). */
export function inFilterRange(at: Date): boolean {
  const ms = at.getTime();
  return Number.isFinite(ms) && ms >= FILTER_EARLIEST.getTime() && ms < FILTER_LATEST_EXCLUSIVE.getTime();
}

const inRange = (value: string): boolean => inFilterRange(filterInstant(value));

/** An instant with its offset, or a calendar date (read as midnight UTC), in the range above. */
export const FilterInstantSchema = z
  .union([z.iso.datetime({ offset: true }), z.iso.date()], { error: 'an ISO-8601 date or date-time with offset' })
  .refine(inRange, { error: RANGE_MESSAGE });
const instant = FilterInstantSchema;

// C0 controls (NUL to U+001F) and DEL in a filter are never a real search: Postgres text cannot
// hold NUL at all (22021, formerly a 500), and the others only smuggle line breaks and escapes
// into the export trailer and logs. Refused here so every caller of the schema is covered.
// (Intent text may hold a tab or newline; a filter cannot find those, a documented limit.)
const CONTROL = /[\u0000-\u001f\u007f]/;
const text = (max: number) =>
  z
    .string()
    .trim()
    .min(1)
    .max(max)
    .refine((v) => !CONTROL.test(v), { error: 'text without control characters (NUL, line breaks, escapes)' });

export const ActionFilterQuerySchema = z.strictObject({
  /** One status or several, comma-separated. */
  status: z
    .string()
    .transform((v) => v.split(',').map((s) => s.trim()).filter(Boolean))
    .pipe(z.array(z.enum(STATUSES, { error: `one of ${STATUSES.join(', ')}` })).min(1))
    .optional(),
  actionType: ActionTypeSchema.optional(),
  /** A prefix of the intent's action.resource. */
  resource: text(500).optional(),
  // The id's shape only: `decidedBy=policy` and `=system` find what countersign decided itself.
  requester: IdPatternSchema.optional(),
  onBehalfOf: IdPatternSchema.optional(),
  decidedBy: IdPatternSchema.optional(),
  voter: IdPatternSchema.optional(),
  ruleId: text(200).optional(),
  riskClass: text(60).optional(),
  environment: text(100).optional(),
  submittedFrom: instant.optional(),
  submittedTo: instant.optional(),
  decidedFrom: instant.optional(),
  decidedTo: instant.optional(),
});

export const ActionListQuerySchema = ActionFilterQuerySchema.extend({
  /** `me`: only what the caller can still approve (a reviewer's inbox). */
  awaiting: z.literal('me', { error: 'only "me" is supported' }).optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  /** Opaque, as a previous page returned it: base64url. */
  cursor: z.string().min(1).max(500).regex(/^[A-Za-z0-9_-]+$/, 'not a cursor from a previous page').optional(),
});

export type ActionFilterQuery = z.output<typeof ActionFilterQuerySchema>;
export type ActionListQuery = z.output<typeof ActionListQuerySchema>;
