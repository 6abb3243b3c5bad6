import { z } from 'zod';
import { ActionViewSchema, VoteEntrySchema } from './action-view.ts';
import { ActionStatusSchema, InstantSchema, RequesterSchema, SealedArtifactSchema, VerdictSchema } from './common.ts';

// The other JSON answers of the HTTP API, one schema each.

/** POST /v1/actions/:id/votes. */
export const VoteResponseSchema = z
  .object({
    vote: VoteEntrySchema.extend({ artifact: SealedArtifactSchema }),
    decided: z.boolean().meta({ description: 'Whether this vote decided the action.' }),
    action: ActionViewSchema,
  })
  .meta({ id: 'VoteResult' });

/** One line of GET /v1/actions: enough to triage, redacted as approvers see it. */
export const ActionSummarySchema = z
  .object({
    id: z.string(),
    status: ActionStatusSchema,
    verdict: VerdictSchema,
    actionType: z.string(),
    resource: z.string().nullable(),
    summary: z.string().nullable(),
    requester: RequesterSchema,
    risk: z.object({ class: z.string().nullable(), urgency: z.string().nullable() }),
    environment: z.string().nullable(),
    ruleIds: z.array(z.string()),
    reasons: z.array(z.string()),
    progress: z.object({ filled: z.int(), needed: z.int() }).optional(),
    createdAt: InstantSchema,
    expiresAt: InstantSchema.optional(),
    decidedAt: InstantSchema.optional(),
    decidedBy: z.string().optional(),
  })
  .meta({ id: 'ActionSummary' });

export const ActionPageSchema = z
  .object({
    items: z.array(ActionSummarySchema),
    nextCursor: z.string().nullable().meta({ description: 'Pass as `cursor` for the next page; null on the last one.' }),
  })
  .meta({ id: 'ActionPage' });

/** GET /v1/actions/:id/evidence. */
export const EvidenceSchema = z
  .object({
    artifacts: z.array(SealedArtifactSchema),
    predecessors: z.array(SealedArtifactSchema).meta({ description: 'For each artifact, the one just before it in the chain (when not already listed): what a verifier needs to check every link.' }),
  })
  .meta({ id: 'Evidence' });

/** POST /v1/releases/redeem. */
export const RedemptionSchema = z
  .object({
    actionId: z.string(),
    jti: z.string(),
    audience: z.string(),
    intentHash: z.string().regex(/^[0-9a-f]{64}$/),
    actionType: z.string(),
    redeemedAt: InstantSchema,
    redeemedBy: z.string(),
  })
  .meta({ id: 'Redemption' });

/** GET /.well-known/jwks.json: Ed25519 public keys; retired keys are verify-only with their range. */
export const JwksSchema = z
  .object({
    keys: z.array(
      z.object({
        kty: z.literal('OKP'),
        crv: z.literal('Ed25519'),
        x: z.string(),
        kid: z.string(),
        alg: z.literal('EdDSA').optional(),
        use: z.literal('sig').optional(),
        key_ops: z.array(z.literal('verify')).optional(),
        countersign_last_seq: z.int().optional(),
        countersign_retired_at: InstantSchema.optional(),
        countersign_successor: z.string().optional(),
      }),
    ),
  })
  .meta({ id: 'Jwks' });

/** GET /healthz. */
export const HealthSchema = z.object({
  status: z.enum(['ok', 'degraded']),
  dependencies: z.record(z.string(), z.string()).meta({ description: 'Dependencies readiness does not wait for: "ok" or why not.' }),
});

/** GET /readyz (200; a 503 is a Problem with the same `checks`). */
export const ReadinessSchema = z.object({ status: z.literal('ready'), checks: z.record(z.string(), z.string()) });

/** GET /v1/webhooks/signing-secret. */
export const WebhookSecretSchema = z.object({ keyId: z.string(), secret: z.string(), scheme: z.string() });
