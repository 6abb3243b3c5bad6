import { z } from 'zod';

// The intent-to-act payload (SPEC "The intent-to-act payload"). Top-level keys are a stable
// contract and strict: an unknown key is a caller bug we refuse rather than silently ignore.
// Free-form detail goes inside `params`, `attributes`.
const shortText = (max: number) => z.string().trim().min(1).max(max);
const freeRecord = z.record(z.string().max(100), z.unknown());

export const ActionTypeSchema = z
  .string()
  .max(120)
  .regex(/^[a-z][a-z0-9_-]*(\.[a-z0-9_-]+)+$/, 'must look like "domain.verb", e.g. "environment.delete"');

export const IntentSchema = z.strictObject({
  action: z.strictObject({
    type: ActionTypeSchema,
    resource: shortText(500).optional(),
    params: freeRecord.default({}),
    summary: shortText(500).optional(),
  }),
  onBehalfOf: shortText(200).optional(),
  context: z
    .strictObject({
      environment: shortText(100).optional(),
      account: shortText(200).optional(),
      jurisdiction: shortText(100).optional(),
      matter: shortText(200).optional(),
      attributes: freeRecord.default({}),
    })
    .default({ attributes: {} }),
  risk: z
    .strictObject({
      class: shortText(60).optional(),
      urgency: z.enum(['low', 'normal', 'high', 'critical']).optional(),
    })
    .default({}),
  authority: z
    .strictObject({
      changeTicket: shortText(200).optional(),
      clientInstruction: shortText(500).optional(),
      regulation: shortText(200).optional(),
      reference: shortText(500).optional(),
      attributes: freeRecord.default({}),
    })
    .default({ attributes: {} }),
  justification: shortText(2000).optional(),
  callbackUrl: z.url({ protocol: /^https?$/ }).max(2000).optional(),
});

/** What callers send (defaults not yet applied). */
export type IntentInput = z.input<typeof IntentSchema>;
/** The normalised intent: every section present, so policy expressions never trip on a missing map. */
export type Intent = z.output<typeof IntentSchema>;
