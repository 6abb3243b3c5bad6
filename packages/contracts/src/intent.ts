import { z } from 'zod';
import { normaliseIntent, type ActionWire, type IntentInput } from './countersign-sdk.ts';

// The intent-to-act payload (SPEC "The intent-to-act payload"). Top-level keys are a stable
// contract and strict: an unknown key is a caller bug we refuse rather than silently ignore.
// Free-form detail goes inside `params`, `attributes`.
//
// Normalising (defaults, trimmed text) is the SDK's normaliseIntent, applied before validating:
// the server stores and hashes exactly what a downstream service recomputes with the SDK, so a
// release token's hash cannot drift between them. The shape below only validates; it must
// never transform (test/sdk-intent-hash.test.ts holds it to that).
const shortText = (max: number) => z.string().min(1).max(max);
const freeRecord = z.record(z.string().max(100), z.unknown());
/** Optional free-text fields of a section, each with its longest length. */
function texts<K extends string>(limits: Record<K, number>): Record<K, z.ZodOptional<z.ZodString>> {
  return Object.fromEntries(Object.entries<number>(limits).map(([key, max]) => [key, shortText(max).optional()])) as Record<K, z.ZodOptional<z.ZodString>>;
}

export const ActionTypeSchema = z
  .string()
  .max(120)
  .regex(/^[a-z][a-z0-9_-]*(\.[a-z0-9_-]+)+$/, 'must look like "domain.verb", e.g. "environment.delete"');

const IntentShape = z.strictObject({
  action: z.strictObject({
    type: ActionTypeSchema,
    resource: shortText(500).optional(),
    params: freeRecord,
    summary: shortText(500).optional(),
  }),
  onBehalfOf: shortText(200).optional(),
  context: z.strictObject({ ...texts({ environment: 100, account: 200, jurisdiction: 100, matter: 200 }), attributes: freeRecord }),
  risk: z.strictObject({
    class: shortText(60).optional(),
    urgency: z.enum(['low', 'normal', 'high', 'critical']).optional(),
  }),
  authority: z.strictObject({ ...texts({ changeTicket: 200, clientInstruction: 500, regulation: 200, reference: 500 }), attributes: freeRecord }),
  justification: shortText(2000).optional(),
  callbackUrl: z.url({ protocol: /^https?$/ }).max(2000).optional(),
});

/** Parses what a caller sent: normalised by the SDK's rule, then validated. */
export const IntentSchema = z.preprocess((input) => normaliseIntent(input as IntentInput), IntentShape);

/** What callers send (defaults not yet applied): the SDK's own type. */
export type { IntentInput };
/** An action as the API answers with it, as the SDK types it: the engine's ActionView extends it. */
export type { ActionWire };
/** The normalised intent: every section present, so policy expressions never trip on a missing map. */
export type Intent = z.output<typeof IntentShape>;
