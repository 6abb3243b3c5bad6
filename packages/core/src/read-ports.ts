import type { ActionStatus, SealedArtifact } from '@countersign/contracts';
import type { ActionRecord, VoteRecord } from './action.ts';
import type { DeliveryRow } from './delivery-store.ts';

// What the read side of the engine (search, the action page, exports) needs from storage.
// packages/db implements it on Postgres; the rules of who may read what stay in core.

/** The list's filters (GET /v1/actions, the console's history, the audit export). */
export interface ActionFilter {
  status?: ActionStatus[];
  actionType?: string;
  /** `intent.action.resource` starts with this. */
  resourcePrefix?: string;
  /** The principal that submitted (the API key's owner). */
  requester?: string;
  onBehalfOf?: string;
  decidedBy?: string;
  /** Someone who voted (approve or deny). */
  voter?: string;
  ruleId?: string;
  riskClass?: string;
  environment?: string;
  submittedFrom?: Date;
  submittedTo?: Date;
  decidedFrom?: Date;
  decidedTo?: Date;
}

/** Whose actions a query may return. `all` only for audit readers. */
export type Visibility =
  | { all: true }
  | { all?: false; principalId: string; /** Roles of a person; empty for agents. */ roles: string[] };

/** Position in the stable order (newest first: createdAt desc, id desc). */
export interface ActionCursor {
  createdAt: Date;
  id: string;
}

export interface ActionQuery {
  filter: ActionFilter;
  visibleTo: Visibility;
  after?: ActionCursor;
  limit: number;
  /**
   * Narrows to pending, unexpired actions whose requirement names one of these roles and that
   * this person has not voted on: a cheap prefilter; the engine's approver checks decide.
   */
  awaiting?: { personId: string; roles: string[]; now: Date };
}

export interface CardFact {
  channel: string;
  target: string;
  state: string;
  tier: number;
  error: string | null;
  createdAt: Date;
  updatedAt: Date;
}

/** A delivery as the timeline shows it: the row without its destination and key. */
export type DeliveryFact = Omit<DeliveryRow, 'id' | 'actionId' | 'url' | 'idempotencyKey' | 'state'> & { state: string };

export interface RedemptionFact {
  jti: string;
  audience: string;
  redeemedAt: Date;
  redeemedBy: string | null;
}

/** Everything about one action outside its row and votes: cards, deliveries, redemptions. */
export interface ActionFacts {
  cards: CardFact[];
  deliveries: DeliveryFact[];
  redemptions: RedemptionFact[];
}

export interface ActionSearchStore {
  /** Up to `limit` actions in the stable order, after the cursor. */
  searchActions(query: ActionQuery): Promise<ActionRecord[]>;
  votesForMany(actionIds: string[]): Promise<Map<string, VoteRecord[]>>;
  /** Every artifact of the action, in seq order. */
  artifactsOf(actionId: string): Promise<SealedArtifact[]>;
  /** Artifacts by sequence number (to show and check the links of an action's evidence). */
  artifactsAt(seqs: number[]): Promise<SealedArtifact[]>;
  /**
   * The action with its votes, artifacts (seq order) and facts, read at once (one action's page
   * or long-poll answer); with `apiKeyId`, also whether that key exists unrevoked now.
   */
  detailOf(actionId: string, opts?: { apiKeyId?: string }): Promise<ActionDetail | null>;
}

export interface ActionDetail {
  /** Asked with `apiKeyId`: the key exists and is not revoked (false when it is gone). */
  apiKeyActive?: boolean;
  action: ActionRecord;
  votes: VoteRecord[];
  artifacts: SealedArtifact[];
  facts: ActionFacts;
}
