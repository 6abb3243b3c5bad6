import { IntentSchema } from '../intent.ts';

// What a client may send as an intent: the normalised shape (IntentSchema.out) with what the
// SDK's normaliseIntent fills in left optional. Documentation only: the server parses with
// IntentSchema itself (normalise, then validate against the same shape).
const shape = IntentSchema.out.shape;

export const IntentRequestSchema = IntentSchema.out
  .extend({
    action: shape.action.extend({ params: shape.action.shape.params.optional() }),
    context: shape.context.extend({ attributes: shape.context.shape.attributes.optional() }).optional(),
    risk: shape.risk.optional(),
    authority: shape.authority.extend({ attributes: shape.authority.shape.attributes.optional() }).optional(),
  })
  .meta({
    description:
      'The intent-to-act payload. Top-level keys are strict; free-form detail goes in `params` and `attributes`. Who acts is the API key’s principal, never a field here. Text is trimmed and missing sections are filled before validation and hashing (the SDK’s normaliseIntent).',
  });
