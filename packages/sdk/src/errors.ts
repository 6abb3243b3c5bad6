import type { Action, FinalStatus, Problem } from './types.ts';

/** Base class: `instanceof CountersignError` catches everything this SDK throws on purpose. */
export class CountersignError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** The server answered with a problem document (4xx/5xx). `code` is countersign's stable error code. */
export class ApiError extends CountersignError {
  readonly status: number;
  readonly code: string;
  readonly problem: Problem;
  constructor(problem: Problem) {
    super(`${problem.code}: ${problem.detail}`);
    this.status = problem.status;
    this.code = problem.code;
    this.problem = problem;
  }
}

/** The server could not be reached (after the retries allowed for this call). */
export class NetworkError extends CountersignError {}

/** The action reached a final state other than approved. */
export class DecisionError extends CountersignError {
  readonly actionId: string;
  readonly status: FinalStatus;
  readonly reasons: string[];
  readonly action: Action;
  constructor(action: Action, message: string) {
    super(message);
    this.actionId = action.id;
    this.status = action.status as FinalStatus;
    this.reasons = reasonsOf(action);
    this.action = action;
  }
}

/** Refused by policy or by an approver's deny. `overridableBy` lists roles that may still override it. */
export class RefusedError extends DecisionError {
  readonly overridableBy: string[];
  constructor(action: Action) {
    super(action, `action ${action.id} was refused: ${describe(action)}`);
    this.overridableBy = action.overridable?.roles ?? [];
  }
}

/** Nobody completed the approval requirement before it expired. */
export class ExpiredError extends DecisionError {
  constructor(action: Action) {
    super(action, `action ${action.id} expired before it was approved`);
  }
}

/** The requester withdrew the action. */
export class CancelledError extends DecisionError {
  constructor(action: Action) {
    super(action, `action ${action.id} was cancelled`);
  }
}

/** Waiting for a decision took longer than the `timeout` given. The action may still be pending. */
export class TimeoutError extends CountersignError {
  readonly actionId: string;
  /** The last state read, when any read succeeded. */
  readonly action: Action | undefined;
  /** True when `authorize()` withdrew the pending action after giving up. */
  readonly withdrawn: boolean;
  constructor(actionId: string, action: Action | undefined, withdrawn = false) {
    super(`no decision on action ${actionId} within the timeout${withdrawn ? '; the request was withdrawn' : ''}`);
    this.actionId = actionId;
    this.action = action;
    this.withdrawn = withdrawn;
  }
}

export type ReleaseFailure =
  | 'malformed'
  | 'unknown_key'
  | 'bad_signature'
  | 'expired'
  | 'not_yet_valid'
  | 'wrong_audience'
  | 'wrong_issuer'
  | 'wrong_action'
  | 'intent_mismatch'
  /** Signed by a signing key after its retirement (see the JWKS' countersign_retired_at). */
  | 'retired_key';

/** A release token that must not be acted on. `reason` says why. */
export class ReleaseVerificationError extends CountersignError {
  readonly reason: ReleaseFailure;
  constructor(reason: ReleaseFailure, message: string, options?: { cause?: unknown }) {
    super(`release token rejected (${reason}): ${message}`, options);
    this.reason = reason;
  }
}

export type WebhookFailure = 'missing_header' | 'malformed_header' | 'timestamp_out_of_range' | 'bad_signature' | 'invalid_body';

/** A webhook that must not be trusted. `reason` says why. */
export class WebhookVerificationError extends CountersignError {
  readonly reason: WebhookFailure;
  constructor(reason: WebhookFailure, message: string) {
    super(`webhook rejected (${reason}): ${message}`);
    this.reason = reason;
  }
}

export function decisionError(action: Action): DecisionError {
  switch (action.status) {
    case 'refused':
      return new RefusedError(action);
    case 'expired':
      return new ExpiredError(action);
    case 'cancelled':
      return new CancelledError(action);
    default:
      throw new CountersignError(`action ${action.id} is ${action.status}, not a refusal`);
  }
}

function describe(action: Action): string {
  const reasons = reasonsOf(action);
  return reasons.length ? reasons.join('; ') : 'no reason given';
}

/** The policy's reasons plus how it ended (a deny's reason, expiry), without repeating them. */
function reasonsOf(action: Action): string[] {
  const reasons = [...action.reasons];
  const extra = action.decisionReason;
  if (extra && extra !== reasons.join('; ') && !reasons.includes(extra)) reasons.push(extra);
  return reasons;
}
