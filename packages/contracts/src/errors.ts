// Stable error codes (SPEC "HTTP contract"). Domain code throws DomainError with one of these;
// the API maps codes to HTTP statuses in one table (apps/server/src/http/problem.ts).
export const ERROR_CODES = [
  'invalid_intent',
  'invalid_request',
  'unauthenticated',
  'forbidden',
  'not_found',
  'self_approval',
  'not_eligible',
  'already_voted',
  'already_decided',
  'expired',
  'reason_required',
  'unknown_identity',
  'delegation_not_allowed',
  'unknown_principal',
  'idempotency_conflict',
  'not_overridable',
  'already_redeemed',
  'invalid_release_token',
  'payload_too_large',
  'unsupported_media_type',
  'rate_limited',
  'unavailable',
  'internal',
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

export interface FieldIssue {
  /** JSON pointer-ish dotted path, e.g. "action.type". */
  field: string;
  message: string;
}

export class DomainError extends Error {
  readonly code: ErrorCode;
  readonly issues: FieldIssue[];
  readonly extra: Record<string, unknown>;
  constructor(code: ErrorCode, message: string, opts: { issues?: FieldIssue[]; extra?: Record<string, unknown> } = {}) {
    super(message);
    this.name = 'DomainError';
    this.code = code;
    this.issues = opts.issues ?? [];
    this.extra = opts.extra ?? {};
  }
}
