import type { ArtifactEvent, ArtifactKind, GateEvent, SealedArtifact } from '@countersign/contracts';
import type { ActionRecord, VoteRecord } from './action.ts';
import type { ApiKeyRecord } from './keys/api-key.ts';

// The engine's view of the outside world. packages/db implements the store and the decision
// bus on Postgres; tests and other channels never bypass them.

export interface Clock {
  now(): Date;
}
export const systemClock: Clock = { now: () => new Date() };

/** Work done inside one Postgres transaction. Artifacts appended here commit with the change. */
export interface GateTx {
  insertAction(action: ActionRecord): Promise<void>;
  /** Reads and row-locks the action until the transaction ends (SELECT … FOR UPDATE). */
  lockAction(id: string): Promise<ActionRecord | null>;
  votesFor(actionId: string): Promise<VoteRecord[]>;
  insertVote(vote: VoteRecord): Promise<void>;
  /**
   * Moves a pending action to a final state. Guarded in SQL by `status = 'pending'` so that a
   * second decision can never overwrite the first, whatever the caller believes.
   */
  finalize(id: string, patch: FinalizePatch): Promise<void>;
  /**
   * A supervised override of a refusal, guarded by `status = 'refused' AND overriddenBy IS NULL`:
   * refused → approved; or, with `escalateUntil` (escalate rules also matched), refused →
   * pending until then, the decision fields cleared for the escalation's own decision.
   */
  recordOverride(id: string, patch: OverridePatch): Promise<void>;
  insertApiKey(key: ApiKeyRecord): Promise<void>;
  revokeApiKey(id: string, at: Date): Promise<boolean>;
  /** Seals and appends the next artifact of the chain (gapless seq, previous hash, signature). */
  appendArtifact(event: ArtifactEvent): Promise<SealedArtifact>;
  /** Records a config digest; true when it was new (so the caller seals the change). */
  recordConfigVersion(file: 'policy' | 'directory', digest: string): Promise<{ isNew: boolean; previousDigest: string | null }>;
  /** Wakes long-polls in every process once the transaction commits. */
  publishDecision(actionId: string): Promise<void>;
  /** Whether an API key exists and is not revoked, read inside this transaction. */
  isKeyActive(keyId: string): Promise<boolean>;
  /** Appends to the transactional outbox: the queue learns of it only if the change commits. */
  emit(event: GateEvent): Promise<void>;
  /** Whether the action already has an artifact of this kind (to seal something once, under its row lock). */
  hasArtifact(actionId: string, kind: ArtifactKind): Promise<boolean>;
  /** An earlier redemption of this approval for this audience, or of this very token. */
  findRedemption(query: { actionId: string; audience: string; tokenId: string }): Promise<RedemptionRecord | null>;
  /**
   * Records a redemption. The database's unique keys on (actionId, audience) and on the token
   * id stand behind the caller's check: a second one fails the transaction (UniqueViolation).
   */
  insertRedemption(redemption: RedemptionRecord): Promise<void>;
}

/** A release token redeemed by a downstream service: one per approval and audience. */
export interface RedemptionRecord {
  /** The token's jti. */
  tokenId: string;
  actionId: string;
  audience: string;
  /** The principal whose API key redeemed it (null only on rows older than that column). */
  redeemedBy: string | null;
  redeemedAt: Date;
}

export interface OverridePatch {
  personId: string;
  /** The overrider's identities as party entries (party-bindings.ts): a party of the escalation it hands over to, who may not vote on it under another id. */
  partyEntries: string[];
  reason: string;
  at: Date;
  /** Set when the override hands the action to escalation: its new expiry. */
  escalateUntil?: Date;
}

export interface FinalizePatch {
  status: 'approved' | 'refused' | 'expired' | 'cancelled';
  at: Date;
  decidedBy: string;
  reason: string | null;
}

/** A brand-new action with what must commit with it: its outbox events and its first artifact. */
export interface NewActionWrite {
  action: ActionRecord;
  /** Outbox events, written in the same transaction (see GateTx.emit). */
  events: GateEvent[];
  /** The action's first artifact (action.escalated or action.decided). */
  artifact: ArtifactEvent;
}

export interface GateStore {
  /**
   * Runs `fn` in one database transaction. `fn` may run more than once (a statement that
   * failed before it ran, e.g. prepared before a migration, rolls the attempt back and the
   * whole of `fn` runs again): keep its effects in `tx`, and count or publish only after this
   * resolves.
   */
  transaction<T>(fn: (tx: GateTx) => Promise<T>): Promise<T>;
  /**
   * Commits a new action, its events and its sealed first artifact together: all or nothing
   * (no decision without its artifact). Implementations may commit several concurrent
   * submissions in one transaction (group commit). Throws UniqueViolation when the action's
   * (apiKeyId, idempotencyKey) is already taken, and DomainError `unauthenticated` when its API
   * key has been revoked by then; either refuses only this submission.
   */
  insertNewAction(write: NewActionWrite): Promise<SealedArtifact>;
  findAction(id: string): Promise<ActionRecord | null>;
  findByIdempotencyKey(apiKeyId: string, key: string): Promise<ActionRecord | null>;
  votesFor(actionId: string): Promise<VoteRecord[]>;
  /**
   * Appends to the action's partyBindings the entries it does not hold yet (a party's chat
   * account found after submission, see ApprovalChannel.accountOf). Only ever adds. With
   * `approversAtMark`, also records those when the action has none recorded yet (the first
   * snapshot stays), in the same write.
   */
  addPartyBindings(actionId: string, entries: readonly string[], approversAtMark?: readonly string[]): Promise<void>;
  /** The action and its votes (oldest first) as one read: what a card is rendered from. */
  findActionWithVotes(id: string): Promise<{ action: ActionRecord; votes: VoteRecord[] } | null>;
  latestArtifactFor(actionId: string): Promise<SealedArtifact | null>;
  findApiKeyByPrefix(prefix: string): Promise<ApiKeyRecord | null>;
  findApiKeyById(id: string): Promise<ApiKeyRecord | null>;
  touchApiKey(id: string, at: Date): Promise<void>;
  /** Binds a key made before keys were bound, unless it is bound already; returns the key's binding. */
  bindApiKey(id: string, binding: string): Promise<string>;
  /**
   * Binds the delegation scope of a key made before scopes were bound, unless it is bound
   * already (the first write wins); returns the key's bindings.
   */
  bindDelegateScope(id: string, bindings: readonly string[]): Promise<string[]>;
  /** Pending actions whose expiry has passed (for sweepers and timers). */
  dueForExpiry(now: Date, limit: number): Promise<string[]>;
  /** Every API key, revoked ones included, oldest first (for operators; hashes, never secrets). */
  listApiKeys(): Promise<ApiKeyRecord[]>;
}

export type ExportFormat = 'jsonl' | 'csv';

/**
 * The approval history with its artifacts as export lines (JSONL or CSV), ending in a signed
 * trailer; the HTTP route and the CLI stream the same bytes.
 */
export interface AuditExport {
  lines(opts: AuditExportRequest): AsyncIterable<string>;
}

export interface AuditExportRequest {
  format: ExportFormat;
  /** Artifacts sealed in [from, to). */
  range: { from?: Date; to?: Date };
  /**
   * Only these actions' artifacts: a selection, with gaps in seq by design; its signed trailer
   * names the filter (as query parameters) and a digest of the records. Absent: every artifact
   * in the range, a gapless piece of the chain.
   */
  selection?: { filter: Record<string, string>; actionIds: string[] };
  /** What each record says was approved, an unsigned annotation (ActionReads.subjects). */
  subjectOf?: (actionId: string) => Promise<ExportSubject | null>;
}

/** The annotation's source: what an action's approvers saw (redacted unless allowed more). */
export interface ExportSubject {
  actionType: string;
  resource: string | null;
  summary: string | null;
  params: Record<string, unknown>;
}

/** Cross-process wake-ups for long-polls (Postgres LISTEN/NOTIFY in production). */
export interface DecisionBus {
  /** Calls `onDecided` when the action reaches a final state; returns an unsubscribe. */
  subscribe(actionId: string, onDecided: () => void): () => void;
}

/** Whatever knows that a unique constraint was violated (used for idempotency races). */
export class UniqueViolation extends Error {
  constructor(readonly target: string) {
    super(`unique constraint violated: ${target}`);
    this.name = 'UniqueViolation';
  }
}
