import { ExecutorSchema, IdSchema, RoleSchema, type ChannelCatalog } from '@countersign/contracts';
import { z } from 'zod';
import { parseDuration } from './duration.ts';

// The policy file as authors write it (see README.md for an annotated example). Strict
// everywhere: a misspelt key such as `ownerMayAprove` must fail the load, not silently fall
// back to the default. Which channels a rule may name (`channels: { slack: [...] }`) depends on
// the channels installed, so the schema is built from their catalog (policyFileSchema).

const duration = z.string().transform((text, ctx) => {
  const seconds = parseDuration(text);
  if (seconds === undefined || seconds <= 0) {
    ctx.addIssue({ code: 'custom', message: `"${text}" is not a duration; write e.g. 30s, 10m, 4h, 2d or 1h30m` });
    return z.NEVER;
  }
  return seconds;
});

/** Each installed channel's places, under its name, optional (a rule need not name them all). */
function placesShape(channels: ChannelCatalog) {
  return Object.fromEntries(channels.definitions.map((d) => [d.name, d.hints.optional()]));
}

function channelsSchema(channels: ChannelCatalog) {
  const tier = z.strictObject({
    after: duration,
    people: z.array(IdSchema).default([]),
    ...placesShape(channels),
  });
  return z.strictObject({
    people: z.array(IdSchema).default([]),
    reminders: z.array(duration).default([]),
    tiers: z.array(tier).default([]),
    ...placesShape(channels),
  });
}

const ApproverGroupSchema = z.strictObject({
  role: RoleSchema,
  count: z.int().min(1).max(10).default(1),
});

const requirementFileSchema = (channels: ChannelCatalog) => z.strictObject({
  approvers: z
    .array(ApproverGroupSchema)
    .min(1, 'an escalation needs at least one approver group')
    .superRefine((groups, ctx) => {
      const seen = new Set<string>();
      groups.forEach((g, i) => {
        // Two groups for one role would be ambiguous (1+1 or max(1,1)?): say `count: 2`.
        if (seen.has(g.role)) ctx.addIssue({ code: 'custom', path: [i, 'role'], message: `role "${g.role}" is listed twice; use count instead` });
        seen.add(g.role);
      });
    }),
  expiresIn: duration.refine((s) => s >= 10 && s <= 30 * 86_400, 'expiresIn must be between 10s and 30d'),
  ownerMayApprove: z.boolean().default(false),
  denyEndsRequest: z.boolean().default(true),
  approvalReasonRequired: z.boolean().default(false),
  // Only what cards can show can be redacted; anything else would be silently ignored.
  redact: z
    .array(
      z
        .string()
        .regex(/^(?:(?:params|context|authority)(?:\.[^.\s]+)+|justification)$/, 'redact paths are params.X, context.X, authority.X or justification'),
    )
    .default([]),
  // Fields every card shows first (and never drops): only params can be featured.
  feature: z.array(z.string().regex(/^params(?:\.[^.\s]+)+$/, 'feature paths are params.X')).default([]),
  channels: channelsSchema(channels).default({ people: [], reminders: [], tiers: [] }),
});

const RuleIdSchema = z
  .string()
  .regex(/^[a-z0-9][a-z0-9-]{0,99}$/, 'rule ids are lowercase letters, digits and "-"');

const ruleFileSchema = (channels: ChannelCatalog) => z
  .strictObject({
    id: RuleIdSchema,
    description: z.string().optional(),
    when: z.string().trim().min(1, 'when must be a CEL expression'),
    outcome: z.enum(['approve', 'refuse', 'escalate']),
    reason: z.string().trim().min(1).max(500),
    requirement: requirementFileSchema(channels).optional(),
    override: z.strictObject({ roles: z.array(RoleSchema) }).optional(),
    /** Held execution: the request countersign sends itself once the escalation is approved. */
    executor: ExecutorSchema.optional(),
  })
  .superRefine((rule, ctx) => {
    if (rule.outcome === 'escalate' && !rule.requirement) {
      ctx.addIssue({ code: 'custom', path: ['outcome'], message: `rule "${rule.id}" escalates but has no requirement (who must approve?)` });
    }
    if (rule.outcome !== 'escalate' && rule.requirement) {
      ctx.addIssue({ code: 'custom', path: ['requirement'], message: `rule "${rule.id}": requirement is only allowed when outcome is escalate` });
    }
    if (rule.outcome !== 'escalate' && rule.executor) {
      // Automatic verdicts hand control straight back to the caller; countersign only holds and
      // executes what people approve.
      ctx.addIssue({ code: 'custom', path: ['executor'], message: `rule "${rule.id}": executor is only allowed when outcome is escalate` });
    }
    if (rule.outcome !== 'refuse' && rule.override) {
      ctx.addIssue({ code: 'custom', path: ['override'], message: `rule "${rule.id}": override is only allowed when outcome is refuse` });
    }
  });

/** The policy file as the installed channels allow it. */
export const policyFileSchema = (channels: ChannelCatalog) => z.strictObject({
  version: z.literal(1),
  /** The repository's demo policy says so: the service refuses it with NODE_ENV=production. */
  demo: z.boolean().default(false),
  rules: z.array(ruleFileSchema(channels)),
  defaults: z
    .strictObject({
      noMatch: z
        .strictObject({ override: z.strictObject({ roles: z.array(RoleSchema) }).default({ roles: [] }) })
        .default({ override: { roles: [] } }),
    })
    .default({ noMatch: { override: { roles: [] } } }),
});

export type RuleFile = z.output<ReturnType<typeof ruleFileSchema>>;
export type PolicyFile = z.output<ReturnType<typeof policyFileSchema>>;
