import { z } from 'zod';
import { IntentSchema } from '../intent.ts';
import { RequirementSchema, RoleGroupSchema } from '../requirement.ts';
import { ActionStatusSchema, InstantSchema, RequesterSchema, SealedArtifactSchema, VerdictSchema } from './common.ts';

// The action as POST /v1/actions, GET /v1/actions/:id, cancel, override and votes answer it:
// the engine's ActionView (core/gate/view.ts) and the SDK's wire type `Action`. The server's
// openapi/type-checks.ts holds this schema's type equal to ActionView, so the two cannot part.

/** The normalised intent (every section present), as stored, hashed and shown. */
export const IntentViewSchema = IntentSchema.out.meta({ id: 'Intent', description: 'The intent as normalised (every section present), stored and hashed.' });

export const TIMELINE_KINDS = ['submitted', 'card', 'tier', 'reminder', 'vote', 'decided', 'overridden', 'redeemed', 'webhook', 'execution', 'artifact'] as const;

export const TimelineEntrySchema = z.object({
  at: InstantSchema,
  kind: z.enum(TIMELINE_KINDS),
  /** One line a reviewer reads. */
  text: z.string(),
  by: z.string().optional(),
  channel: z.string().optional(),
  seq: z.int().optional().meta({ description: 'The sealing artifact’s sequence number, when this step is evidence.' }),
  detail: z.record(z.string(), z.unknown()).optional(),
});

export const VoteEntrySchema = z.object({
  personId: z.string(),
  decision: z.enum(['approve', 'deny']),
  reason: z.string().nullable(),
  channel: z.string(),
  at: InstantSchema,
});

export const ProgressSchema = z.object({
  filled: z.int().min(0),
  needed: z.int().min(0),
  open: z.array(RoleGroupSchema),
  approvals: z.array(z.object({ personId: z.string(), role: z.string() })),
});

export const ActionViewSchema = z
  .object({
    id: z.string().regex(/^act_[a-z0-9]{20}$/),
    status: ActionStatusSchema,
    verdict: VerdictSchema,
    reasons: z.array(z.string()),
    ruleIds: z.array(z.string()),
    policyDigest: z.string(),
    actionType: z.string(),
    intentHash: z.string().regex(/^[0-9a-f]{64}$/),
    requester: RequesterSchema,
    requirement: RequirementSchema.optional().meta({ description: 'The approval requirement in force (escalations, and refusals once overridden).' }),
    progress: ProgressSchema.optional(),
    votes: z.array(VoteEntrySchema).optional(),
    expiresAt: InstantSchema.optional(),
    createdAt: InstantSchema,
    decidedAt: InstantSchema.optional(),
    decidedBy: z.string().optional(),
    decisionReason: z.string().optional(),
    override: z.object({ by: z.string(), reason: z.string() }).optional(),
    overridable: z.object({ roles: z.array(z.string()) }).optional().meta({ description: 'A refusal a person with one of these roles may override.' }),
    releaseToken: z.string().optional().meta({ description: 'Approved actions read by their requesting side: a JWS (EdDSA) for the downstream system.' }),
    releaseTokenExpiresAt: InstantSchema.optional(),
    artifact: SealedArtifactSchema.nullable(),
    intent: IntentViewSchema.optional().meta({ description: 'Reads only: the intent as its approvers see it, the rule’s `redact` applied.' }),
    redacted: z.array(z.string()).optional().meta({ description: 'Reads only: the param paths replaced by "[redacted]".' }),
    normalizedIntent: IntentViewSchema.optional().meta({ description: 'The requesting side (and readers allowed unredacted intents): the intent exactly as hashed into `intentHash`.' }),
    canStillDecide: z.array(z.string()).optional().meta({ description: 'Pending reads only: the people who could still fill an open slot.' }),
    timeline: z.array(TimelineEntrySchema).optional(),
  })
  .meta({ id: 'Action', description: 'An action: its verdict, status, requirement and progress, and the artifact that sealed its latest step.' });
