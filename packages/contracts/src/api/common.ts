import { z } from 'zod';
import { ARTIFACT_KINDS } from '../artifact.ts';
import { ERROR_CODES } from '../errors.ts';

// Shapes the HTTP API answers with (apps/server/src/openapi builds the OpenAPI document from
// them; test/openapi-contract.test.ts holds real responses to them). Response objects are
// closed (no undeclared members) so a field added to a response without its schema is caught
// by the contract test; maps meant to be free (params, attributes, detail) say so.

/** Instants as the service writes them: `Date.prototype.toISOString()`. */
export const InstantSchema = z.iso.datetime({ offset: true });

export const ActionStatusSchema = z.enum(['pending', 'approved', 'refused', 'expired', 'cancelled']);
export const VerdictSchema = z.enum(['approve', 'refuse', 'escalate']);

export const RequesterSchema = z
  .object({
    kind: z.enum(['person', 'agent']),
    id: z.string(),
    owner: z.string().nullable(),
    onBehalfOf: z.string().nullable(),
  })
  .meta({ description: 'Who submitted: the API key’s principal, its owner (agents) and the person it acted for.' });

export const SealedArtifactSchema = z
  .object({
    seq: z.int().min(1),
    kind: z.enum(ARTIFACT_KINDS),
    actionId: z.string().nullable(),
    at: InstantSchema,
    canonical: z.string().meta({ description: 'RFC 8785 canonical JSON of the artifact body: exactly the signed bytes (UTF-8).' }),
    hash: z.string().regex(/^[0-9a-f]{64}$/).meta({ description: 'sha256 hex of `canonical`.' }),
    prevHash: z.string().regex(/^[0-9a-f]{64}$/),
    signature: z.string().meta({ description: 'base64 Ed25519 signature over the UTF-8 bytes of `canonical`.' }),
    keyId: z.string(),
  })
  .meta({ id: 'SealedArtifact', description: 'One sealed artifact, as stored and exported (one JSONL line of the audit export).' });

export const FieldIssueSchema = z.object({ field: z.string(), message: z.string() });

/**
 * RFC 9457 problem details as every error is answered (application/problem+json). `code` is
 * stable; extension members (e.g. `checks` on a 503 from /readyz, `retryAfterSeconds`) may
 * appear beside the standard ones.
 */
export const ProblemSchema = z
  .looseObject({
    type: z.string().meta({ description: 'https://countersign.dev/problems/<code>' }),
    title: z.string(),
    status: z.int().min(400).max(599),
    detail: z.string(),
    code: z.enum(ERROR_CODES),
    instance: z.string().optional(),
    requestId: z.string(),
    errors: z.array(FieldIssueSchema).optional().meta({ description: 'Field-precise detail for bad input.' }),
  })
  .meta({ id: 'Problem', description: 'RFC 9457 problem details with a stable `code`.' });
