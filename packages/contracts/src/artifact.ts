import * as z from 'zod/mini';
import en from 'zod/v4/locales/en.js';
import { ChannelNameSchema } from './channel-name.ts';

// Typed audit events: what each artifact kind records. Canonicalised (RFC 8785) before
// hashing and signing by @countersign/evidence. Add kinds; never change an existing one.
//
// Written with zod's tree-shakable build (zod/mini): verifying an export checks every record's
// event against this schema on worker threads, and each thread loads what it imports before
// its first line. With the full zod (and the rest of this package's schemas), two threads
// spent about 400 ms of CPU starting on a 2-core machine; with this module alone about 200.
// Import it as `@countersign/contracts/artifact` where start-up counts.
const iso = z.iso.datetime({ offset: true });
const actionRef = {
  actionId: z.string(),
  intentHash: z.string().check(z.length(64)),
  actionType: z.string(),
};

// Compiled (zod's generated fast path, falling back to its ordinary parser on any failure, so
// issues and messages are the ordinary ones): every record of a verification is parsed here,
// and mini's objects have no fast path of their own. Measured on this machine: 0.16 µs per
// event, against 2.3 µs uncompiled (0.9 µs with the full zod).
const ArtifactEventUnion = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.literal('action.escalated'),
    ...actionRef,
    actor: z.strictObject({ kind: z.enum(['person', 'agent']), id: z.string() }),
    onBehalfOf: z.nullable(z.string()),
    owner: z.nullable(z.string()),
    policyDigest: z.string(),
    ruleIds: z.array(z.string()),
    reasons: z.array(z.string()),
    requirement: z.unknown(),
    expiresAt: iso,
  }),
  z.strictObject({
    kind: z.literal('vote.recorded'),
    ...actionRef,
    personId: z.string(),
    decision: z.enum(['approve', 'deny']),
    reason: z.nullable(z.string()),
    /**
     * `api`, `web` (the console: people signed in with the organisation's identity provider)
     * or an installed channel's name (`slack`, `teams`, …).
     */
    channel: ChannelNameSchema,
    rolesAtVote: z.array(z.string()),
    progress: z.strictObject({ filled: z.int(), needed: z.int() }),
    /**
     * The account that acted, as the channel verified it before mapping it to `personId`:
     * Slack `{ teamId, userId }`, Teams `{ tenantId, aadObjectId }`, the API `{ apiKeyId }`, the
     * console `{ sessionSubject }` (the identity provider's claim the session was opened with).
     * Optional: votes sealed before it existed have none.
     */
    via: z.optional(z.strictObject({ channel: ChannelNameSchema, account: z.record(z.string().check(z.minLength(1), z.maxLength(64)), z.string().check(z.maxLength(500))) })),
  }),
  z.strictObject({
    kind: z.literal('action.decided'),
    ...actionRef,
    status: z.enum(['approved', 'refused', 'expired', 'cancelled']),
    /** 'policy' for automatic verdicts, a person id for votes, 'system' for expiry, the requester for cancel. */
    decidedBy: z.string(),
    actor: z.strictObject({ kind: z.enum(['person', 'agent']), id: z.string() }),
    onBehalfOf: z.nullable(z.string()),
    policyDigest: z.string(),
    ruleIds: z.array(z.string()),
    reasons: z.array(z.string()),
    /** For approvals by vote: which person filled which role slot. */
    approvers: z.array(z.strictObject({ personId: z.string(), role: z.string() })),
  }),
  z.strictObject({
    kind: z.literal('action.overridden'),
    ...actionRef,
    personId: z.string(),
    rolesAtOverride: z.array(z.string()),
    reason: z.string(),
    previousStatus: z.literal('refused'),
    /**
     * `approved`; `pending` when escalate rules also matched the intent: an override lifts the
     * refusal, not their requirement, so the action goes on to escalation (`requirement`,
     * `expiresAt` below, present exactly then).
     */
    status: z.enum(['approved', 'pending']),
    /** Always true: overrides are flagged for review. */
    reviewRequired: z.literal(true),
    requirement: z.optional(z.unknown()),
    expiresAt: z.optional(iso),
  }),
  z.strictObject({
    /** Held execution: countersign sent the approved action's executor request (or gave up). */
    kind: z.literal('action.executed'),
    ...actionRef,
    result: z.enum(['succeeded', 'failed']),
    method: z.string(),
    /** Origin only (scheme, host, port): the rendered path may carry intent detail. */
    destination: z.string(),
    idempotencyKey: z.string(),
    /** The executor's HTTP status; null when no response arrived (network error, refused destination). */
    responseStatus: z.nullable(z.int()),
    attempts: z.int(),
    error: z.nullable(z.string()),
  }),
  z.strictObject({
    /** A downstream service redeemed a release token: the approval ran (once per audience). */
    kind: z.literal('release.redeemed'),
    ...actionRef,
    audience: z.string(),
    /** The principal whose API key redeemed it. */
    redeemedBy: z.string(),
    /** The release token's jti. */
    tokenId: z.string(),
  }),
  z.strictObject({
    kind: z.literal('key.created'),
    keyId: z.string(),
    principalId: z.string(),
    principalKind: z.enum(['person', 'agent']),
    canDelegate: z.boolean(),
    /** Whom a delegate key may act for (person ids, `role:<role>`); absent on keys that may not, and on older records. */
    delegateFor: z.optional(z.array(z.string())),
    label: z.nullable(z.string()),
  }),
  z.strictObject({
    kind: z.literal('key.revoked'),
    keyId: z.string(),
    principalId: z.string(),
  }),
  z.strictObject({
    /**
     * The organisation's signing key changed. Sealed by the service, signed by the NEW key,
     * before that key signs anything else: the previous key signed nothing after
     * `previousKeyLastSeq` (this artifact's seq - 1) and is retired as of this artifact's `at`.
     * Verifiers derive each key's range from these records (see @countersign/evidence).
     */
    kind: z.literal('signing-key.rotated'),
    previousKeyId: z.string().check(z.minLength(1)),
    newKeyId: z.string().check(z.minLength(1)),
    previousKeyLastSeq: z.int().check(z.minimum(1)),
  }),
  z.strictObject({
    kind: z.literal('config.changed'),
    file: z.enum(['policy', 'directory']),
    digest: z.string(),
    previousDigest: z.nullable(z.string()),
  }),
]);
export const ArtifactEventSchema = z.compile(ArtifactEventUnion);
/** The same schema on zod's ordinary parser only: what the compiled one must agree with (tests). */
export const ArtifactEventSchemaUncompiled = ArtifactEventUnion;

export type ArtifactEvent = z.output<typeof ArtifactEventSchema>;
export type ArtifactKind = ArtifactEvent['kind'];

// Every kind once: the compiler refuses a kind missing here or one the union does not have.
const KINDS: Record<ArtifactKind, true> = {
  'action.escalated': true,
  'vote.recorded': true,
  'action.decided': true,
  'action.overridden': true,
  'action.executed': true,
  'release.redeemed': true,
  'key.created': true,
  'key.revoked': true,
  'signing-key.rotated': true,
  'config.changed': true,
};
export const ARTIFACT_KINDS = Object.keys(KINDS) as [ArtifactKind, ...ArtifactKind[]];

// zod/mini registers no language: a thread that loads only this module would say "Invalid
// input" where the full zod, loaded by the rest of the service, says what was wrong. Parsing
// with English messages given per call keeps a verification's report the same on every thread.
const englishMessages = en().localeError;

/** `ArtifactEventSchema.safeParse` with zod's English messages, whatever else this thread loaded. */
export function safeParseArtifactEvent(value: unknown): ReturnType<typeof ArtifactEventSchema.safeParse> {
  return ArtifactEventSchema.safeParse(value, { error: englishMessages });
}

/**
 * The signed body of an artifact. `canonical` (RFC 8785 of this object) is what is hashed
 * and signed; the export carries it verbatim so third parties can check it with openssl.
 */
export interface ArtifactBody {
  v: 1;
  seq: number;
  prevHash: string;
  at: string;
  keyId: string;
  event: ArtifactEvent;
}

/** One sealed artifact as stored and exported (one JSONL line). */
export interface SealedArtifact {
  seq: number;
  kind: ArtifactKind;
  actionId: string | null;
  at: string;
  /** RFC 8785 canonical JSON of the ArtifactBody: exactly the signed bytes (UTF-8). */
  canonical: string;
  /** sha256 hex of `canonical`. */
  hash: string;
  prevHash: string;
  /** base64 Ed25519 signature over the UTF-8 bytes of `canonical`. */
  signature: string;
  keyId: string;
}

export const GENESIS_HASH = '0'.repeat(64);
