import { z } from 'zod';
import { PlacesSchema } from './channel-catalog.ts';
import { IdSchema, RoleSchema } from './directory.ts';
import { ExecutorSchema } from './executor.ts';

// An approval requirement: role groups with counts, every slot filled by a distinct person.
export const RoleGroupSchema = z.strictObject({
  role: RoleSchema,
  count: z.int().min(1).max(10),
});

/** Keys beside the places: anything else in a `channels` object or a tier is a channel's places. */
const NOT_PLACES = new Set(['people', 'reminders', 'tiers', 'afterSeconds']);

/** Every key that is not one of the fixed ones must hold a channel's places. */
function placesOnly(value: Record<string, unknown>, ctx: z.core.$RefinementCtx<Record<string, unknown>>): void {
  for (const [key, places] of Object.entries(value)) {
    if (NOT_PLACES.has(key)) continue;
    if (!PlacesSchema.safeParse(places).success) ctx.addIssue({ code: 'custom', path: [key], message: 'expected a list of places (non-empty strings)' });
  }
}

/** Where a tier asks: people, and places per channel (`slack: [...]`, …) beside them. */
export const ChannelTierSchema = z
  .looseObject({
    afterSeconds: z.int().positive(),
    people: z.array(IdSchema).default([]),
  })
  .superRefine(placesOnly);

/**
 * Where and how to ask: people, reminders and escalation tiers, and each channel's places under
 * its own name. Which channel names are allowed is not fixed here: the policy loader checks
 * them against the installed channels (ChannelCatalog), so this contract names none.
 */
export const ChannelHintsSchema = z
  .looseObject({
    people: z.array(IdSchema).default([]),
    /** Seconds after submission at which to remind reviewers who have not decided. */
    reminders: z.array(z.int().positive()).default([]),
    /** Escalation tiers: after `afterSeconds`, also ask these channels / people. */
    tiers: z.array(ChannelTierSchema).default([]),
  })
  .superRefine(placesOnly);

export const RequirementSchema = z.strictObject({
  groups: z.array(RoleGroupSchema).min(1),
  expiresInSeconds: z.int().min(10).max(30 * 24 * 3600),
  /** SPEC approver check 3: the agent's owner may approve only where the rule says so. */
  ownerMayApprove: z.boolean().default(false),
  /** SPEC approver check 5: a deny ends the request unless the rule says otherwise. */
  denyEndsRequest: z.boolean().default(true),
  approvalReasonRequired: z.boolean().default(false),
  /** Param keys (dotted paths under action.params) that cards must not show. */
  redact: z.array(z.string().min(1)).default([]),
  /**
   * Param paths (`params.amount`) cards always show, first, whatever else the intent carries.
   * Redaction still applies: a featured and redacted field shows as "[redacted]".
   */
  feature: z.array(z.string().min(1)).default([]),
  channels: ChannelHintsSchema.default({ people: [], reminders: [], tiers: [] }),
  /** Held execution: the request countersign sends itself once approved (see executor.ts). */
  executor: ExecutorSchema.optional(),
});

export type RoleGroup = z.output<typeof RoleGroupSchema>;
export type Requirement = z.output<typeof RequirementSchema>;
export type ChannelHints = z.output<typeof ChannelHintsSchema>;
export type ChannelTier = z.output<typeof ChannelTierSchema>;

/** Each channel's places in a rule's hints or one of its tiers, by channel name. */
export function placesByChannel(hints: ChannelHints | ChannelTier): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const [key, value] of Object.entries(hints)) if (!NOT_PLACES.has(key) && Array.isArray(value)) out[key] = value as string[];
  return out;
}

/** One channel's places in a rule's hints or one of its tiers (none when the rule names none). */
export function placesFor(hints: ChannelHints | ChannelTier, channel: string): string[] {
  return placesByChannel(hints)[channel] ?? [];
}
