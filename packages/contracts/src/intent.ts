import { z } from 'zod';
import { normaliseIntent, type ActionWire, type IntentInput } from './countersign-sdk.ts';
import { hasHiddenCharacters } from './display-text.ts';

// The intent-to-act payload (SPEC "The intent-to-act payload"). Top-level keys are a stable
// contract and strict: an unknown key is a caller bug we refuse rather than silently ignore.
// Free-form detail goes inside `params`, `attributes`.
//
// Normalising (defaults, trimmed text) is the SDK's normaliseIntent, applied before validating:
// the server stores and hashes exactly what a downstream service recomputes with the SDK, so a
// release token's hash cannot drift between them. The shape below only validates; it must
// never transform (test/sdk-intent-hash.test.ts holds it to that).
const shortText = (max: number) => z.string().min(1).max(max);
/**
 * A name that policy matches and that a downstream acts on (a resource, an environment, an
 * account): no control, format or invisible characters, not even tab or newline. Shown as a
 * mark they would not fool an approver, but policy compares the raw text: "env/pro\u200Bd-eu-1"
 * is not "env/prod-eu-1" to a rule, while a downstream that drops such characters acts on
 * production. Prose fields (summary, justification) keep them, shown marked.
 */
const nameText = (max: number) =>
  shortText(max).refine((v) => !hasHiddenCharacters(v) && !/[\t\n]/.test(v), {
    error: 'must not contain control, format or invisible characters (tab, newline, zero-width, bidi, …)',
  });
/**
 * A name that rules usually match by its Latin letters (a resource, an environment, an account,
 * a risk class, a person's id): no look-alike letter either. "env/ｐｒｏｄ-eu-1" (full-width),
 * "env/ᵖʳᵒᵈ-eu-1" (modifier letters), "env/ⓟⓡⓞⓓ-eu-1" (circled), "env/㏚od-eu-1" (a square
 * unit) or a Kelvin sign for K is not "prod" or "K" to a rule, while a downstream that folds
 * text (Unicode NFKC) acts on it as such. Refused: any character that is not ASCII and folds to
 * text holding an ASCII letter, whatever its category (circled and squared letters are
 * symbols: review s14 b). Everything else passes: other scripts, accents (composed or not),
 * full-width digits and punctuation ("（2024）", "１２３号", common in Chinese and Japanese), and
 * the few symbols people write in names, which read as symbols (№, ™, ℠, ℃, ℉). Digits that
 * fold to ASCII ones (①, ¹, 𝟏) are refused like letters; full-width ones are not.
 */
const identifierText = (max: number) =>
  nameText(max).superRefine((v, ctx) => {
    const ch = latinLookalike(v);
    if (ch === undefined) return;
    const code = `U+${ch.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;
    ctx.addIssue({
      code: 'custom',
      message: `must not contain look-alikes of Latin letters or digits (full-width letters, circled, squared, superscript or modifier letters and digits, ligatures): ${code} "${ch}" reads as "${ch.normalize('NFKC')}"; write the plain characters`,
    });
  });

const NON_ASCII = /[^\u0000-\u007f]/gu;
// A letter anywhere in the fold; a digit from anything but the full-width digits (CJK names
// write "１２３号"): circled ①, superscript ¹ or mathematical 𝟏 read as 1 downstream, while a
// rule matching an account or ticket number sees another name (review s14 c).
const ASCII_LETTER = /[A-Za-z]/;
const ASCII_DIGIT = /[0-9]/;
const FULL_WIDTH_DIGIT = /^[\uFF10-\uFF19]$/;
/** Symbols that fold to letters but read as symbols, not as the letters (see identifierText). */
const NAME_SYMBOLS = new Set(['№', '™', '℠', '℃', '℉']);

function latinLookalike(v: string): string | undefined {
  for (const [ch] of v.matchAll(NON_ASCII)) {
    if (NAME_SYMBOLS.has(ch)) continue;
    const folded = ch.normalize('NFKC');
    if (ASCII_LETTER.test(folded) || (ASCII_DIGIT.test(folded) && !FULL_WIDTH_DIGIT.test(ch))) return ch;
  }
  return undefined;
}
const freeRecord = z.record(z.string().max(100), z.unknown());
/** Optional free-text fields of a section, each with its longest length. */
function texts<K extends string>(limits: Record<K, number>, text: (max: number) => z.ZodType<string> = shortText): Record<K, z.ZodOptional<z.ZodType<string>>> {
  return Object.fromEntries(Object.entries<number>(limits).map(([key, max]) => [key, text(max).optional()])) as Record<K, z.ZodOptional<z.ZodType<string>>>;
}

export const ActionTypeSchema = z
  .string()
  .max(120)
  .regex(/^[a-z][a-z0-9_-]*(\.[a-z0-9_-]+)+$/, 'must look like "domain.verb", e.g. "environment.delete"');

const IntentShape = z.strictObject({
  action: z.strictObject({
    type: ActionTypeSchema,
    resource: identifierText(500).optional(),
    params: freeRecord,
    summary: shortText(500).optional(),
  }),
  onBehalfOf: identifierText(200).optional(),
  context: z.strictObject({ ...texts({ environment: 100, account: 200 }, identifierText), ...texts({ jurisdiction: 100, matter: 200 }, nameText), attributes: freeRecord }),
  risk: z.strictObject({
    class: identifierText(60).optional(),
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
