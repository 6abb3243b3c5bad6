import { z } from 'zod';
import { IdSchema, RoleSchema } from './directory.ts';
import { ExecutorSchema } from './executor.ts';

// An approval requirement: role groups with counts, every slot filled by a distinct person.
export const RoleGroupSchema = z.strictObject({
  role: RoleSchema,
  count: z.int().min(1).max(10),
});

/** Where and how to ask: consumed by the Slack/Teams/queue issues, carried through untouched here. */
export const ChannelHintsSchema = z.strictObject({
  slack: z.array(z.string().min(1)).default([]),
  teams: z.array(z.string().min(1)).default([]),
  people: z.array(IdSchema).default([]),
  /** Seconds after submission at which to remind reviewers who have not decided. */
  reminders: z.array(z.int().positive()).default([]),
  /** Escalation tiers: after `afterSeconds`, also ask these channels / people. */
  tiers: z
    .array(
      z.strictObject({
        afterSeconds: z.int().positive(),
        slack: z.array(z.string().min(1)).default([]),
        teams: z.array(z.string().min(1)).default([]),
        people: z.array(IdSchema).default([]),
      }),
    )
    .default([]),
});

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
  channels: ChannelHintsSchema.default({ slack: [], teams: [], people: [], reminders: [], tiers: [] }),
  /** Held execution: the request countersign sends itself once approved (see executor.ts). */
  executor: ExecutorSchema.optional(),
});

export type RoleGroup = z.output<typeof RoleGroupSchema>;
export type Requirement = z.output<typeof RequirementSchema>;
export type ChannelHints = z.output<typeof ChannelHintsSchema>;
