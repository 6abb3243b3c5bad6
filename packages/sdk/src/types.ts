// The wire types of countersign's HTTP API v1, as an agent sees them. The SDK is published on
// its own, so these are written out here rather than imported from the server's packages;
// additive server changes simply show up as extra fields.

/** The intent-to-act payload (what you send). Who acts is your API key's principal, never a field here. */
export interface IntentInput {
  action: {
    /** "domain.verb", e.g. "environment.delete". */
    type: string;
    resource?: string;
    params?: Record<string, unknown>;
    summary?: string;
  };
  /** The person an agent acts for (the key must be allowed to delegate). */
  onBehalfOf?: string;
  context?: {
    environment?: string;
    account?: string;
    jurisdiction?: string;
    matter?: string;
    attributes?: Record<string, unknown>;
  };
  risk?: {
    class?: string;
    urgency?: 'low' | 'normal' | 'high' | 'critical';
  };
  authority?: {
    changeTicket?: string;
    clientInstruction?: string;
    regulation?: string;
    reference?: string;
    attributes?: Record<string, unknown>;
  };
  justification?: string;
  /** Webhook for the final decision; must be allowed by the server's configuration. */
  callbackUrl?: string;
}

export type ActionStatus = 'pending' | 'approved' | 'refused' | 'expired' | 'cancelled';
export type FinalStatus = Exclude<ActionStatus, 'pending'>;

/** An action as the API returns it (POST /v1/actions, GET /v1/actions/:id). */
export interface Action {
  id: string;
  status: ActionStatus;
  verdict: 'approve' | 'refuse' | 'escalate';
  reasons: string[];
  ruleIds: string[];
  policyDigest: string;
  actionType: string;
  intentHash: string;
  requester: { kind: 'person' | 'agent'; id: string; owner: string | null; onBehalfOf: string | null };
  requirement?: Record<string, unknown>;
  progress?: { filled: number; needed: number; open: { role: string; count: number }[]; approvals: { personId: string; role: string }[] };
  votes?: { personId: string; decision: string; reason: string | null; channel: string; at: string }[];
  expiresAt?: string;
  createdAt: string;
  decidedAt?: string;
  decidedBy?: string;
  decisionReason?: string;
  override?: { by: string; reason: string };
  overridable?: { roles: string[] };
  /** Present on approved actions read by their requester's side: hand it to the downstream system. */
  releaseToken?: string;
  releaseTokenExpiresAt?: string;
  artifact: Record<string, unknown> | null;
  /** On reads (GET /v1/actions/:id): the intent as its approvers see it, redaction applied… */
  intent?: Record<string, unknown>;
  /** …and the paths replaced by "[redacted]". */
  redacted?: string[];
  /**
   * For the requester (and readers allowed unredacted intents): the intent as the server
   * normalised, stored and hashed it. `sha256(RFC 8785 canonical JSON of it)` is `intentHash`
   * and a release token's `intent_sha256`.
   */
  normalizedIntent?: Record<string, unknown>;
  /** Pending only: the people who could still fill an open slot. */
  canStillDecide?: string[];
  /** What happened, in time order (submitted, cards, votes, decision, redemptions, deliveries…). */
  timeline?: { at: string; kind: string; text: string; by?: string; channel?: string; seq?: number; detail?: Record<string, unknown> }[];
}

/** What `authorize()` resolves with: the approved action and its release token. */
export interface Authorization {
  action: Action;
  releaseToken: string;
}

/** RFC 9457 problem details as countersign sends them. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: string;
  requestId?: string;
  errors?: { field: string; message: string }[];
  [extension: string]: unknown;
}

/** A recorded redemption (POST /v1/releases/redeem). */
export interface Redemption {
  actionId: string;
  jti: string;
  audience: string;
  intentHash: string;
  actionType: string;
  redeemedAt: string;
  redeemedBy: string;
}

export function isFinal(status: ActionStatus): status is FinalStatus {
  return status !== 'pending';
}
