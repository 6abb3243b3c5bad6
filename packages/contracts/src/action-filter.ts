import { z } from 'zod';
import { IdSchema } from './directory.ts';
import { ActionTypeSchema } from './intent.ts';

// The list's filters as query parameters: GET /v1/actions, GET /v1/audit/export and the
// console's history form all parse them with these schemas, so bad input gets the same
// field-precise problem everywhere.

const STATUSES = ['pending', 'approved', 'refused', 'expired', 'cancelled'] as const;
/** An instant with its offset, or a calendar date (read as midnight UTC). */
const instant = z.union([z.iso.datetime({ offset: true }), z.iso.date()], { error: 'an ISO-8601 date or date-time with offset' });
const text = (max: number) => z.string().trim().min(1).max(max);

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
  requester: IdSchema.optional(),
  onBehalfOf: IdSchema.optional(),
  decidedBy: IdSchema.optional(),
  voter: IdSchema.optional(),
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
  cursor: z.string().min(1).max(500).optional(),
});

export type ActionFilterQuery = z.output<typeof ActionFilterQuerySchema>;
export type ActionListQuery = z.output<typeof ActionListQuerySchema>;
