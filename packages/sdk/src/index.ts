// @countersign/sdk: what agents and downstream services import.
export { Countersign } from './client.ts';
export type { CountersignOptions, SubmitOptions, WaitOptions, AuthorizeOptions, RedeemOptions } from './client.ts';
export { currentRelease } from './guard.ts';
export { verifyRelease, createReleaseVerifier } from './release.ts';
export type { ReleaseClaims, ReleaseKeySource, ReleaseVerifier, ReleaseVerifierOptions, VerifyReleaseCheck } from './release.ts';
export {
  verifyWebhook,
  signWebhook,
  SIGNATURE_HEADER,
  EVENT_ID_HEADER,
  ATTEMPT_HEADER,
  DEFAULT_TOLERANCE_SECONDS,
} from './webhook.ts';
export type { WebhookEvent, VerifyWebhookOptions, HeaderBag } from './webhook.ts';
export { intentHash, normaliseIntent, canonicalJson } from './intent-hash.ts';
export { bindCall, notApprovedText } from './bound-call.ts';
export type { BoundCall, DescribeCall } from './bound-call.ts';
export {
  CountersignError,
  ApiError,
  NetworkError,
  DecisionError,
  RefusedError,
  ExpiredError,
  CancelledError,
  TimeoutError,
  ReleaseVerificationError,
  WebhookVerificationError,
} from './errors.ts';
export type { ReleaseFailure, WebhookFailure } from './errors.ts';
export type { FetchLike } from './http.ts';
// Shared with countersign's own server (one implementation each): Retry-After, network failures.
export { retryAfterMs, MAX_RETRY_AFTER_MS } from './retry-after.ts';
export { networkFailure, networkErrorCode } from './network-failure.ts';
export type { NetworkFailure } from './network-failure.ts';
export { isFinal } from './types.ts';
export type { Action, ActionStatus, FinalStatus, Authorization, IntentInput, Problem, Redemption } from './types.ts';
