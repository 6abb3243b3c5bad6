import type { Requirement } from './requirement.ts';

export type Outcome = 'approve' | 'refuse' | 'escalate';

/** What policy says about one intent from one actor at one time. Pure data. */
export interface Verdict {
  outcome: Outcome;
  /** Ids of the rules that produced the outcome (all matching rules of the winning outcome). */
  ruleIds: string[];
  reasons: string[];
  /** sha256 hex of the policy file's canonical content. */
  policyDigest: string;
  /** Present when outcome is escalate: the combined requirement of every matching escalate rule. */
  requirement?: Requirement;
  /** Roles that may override this refusal (empty: not overridable). Present when outcome is refuse. */
  overrideRoles?: string[];
  /**
   * A refusal that escalate rules also matched: their combined requirement. An override lifts
   * the refusal, not their requirement: the overridden action goes on to escalation with it.
   */
  requirementAfterOverride?: Requirement;
}

export type ActionStatus = 'pending' | 'approved' | 'refused' | 'expired' | 'cancelled';
export const FINAL_STATUSES: readonly ActionStatus[] = ['approved', 'refused', 'expired', 'cancelled'];
export type VoteDecision = 'approve' | 'deny';
/** Where a vote came from: `api`, `web` (the console) or an installed channel's name (ChannelCatalog). */
export type VoteChannel = string;
