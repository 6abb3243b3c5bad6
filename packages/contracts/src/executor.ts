import { z } from 'zod';

// Held execution: a rule may name an executor, an HTTP request template that countersign sends
// itself once the action is approved. The template is written in the policy file, carried on
// the requirement (so it is sealed with the escalation and shown to approvers) and rendered
// against the intent only at execution time.
//
// Placeholders are `{{path}}` with a path into the intent (`action.resource`,
// `action.params.amount`, `context.environment`, …), `actionId`, `intentHash`, or, in header
// values only, `secret.NAME` (read from the environment variable COUNTERSIGN_EXECUTOR_SECRET_NAME
// when the request is sent, so no credential is ever written to the policy, the database or an
// artifact).

/** Roots a placeholder may start with. `secret` is allowed in header values only. */
export const EXECUTOR_PLACEHOLDER_ROOTS = [
  'action',
  'context',
  'risk',
  'authority',
  'onBehalfOf',
  'justification',
  'actionId',
  'intentHash',
  'secret',
] as const;

/** `{{ path.to.value }}`; segments are letters, digits, `_` and `-`. */
export const EXECUTOR_PLACEHOLDER = /\{\{\s*([A-Za-z_][A-Za-z0-9_-]*(?:\.[A-Za-z0-9_-]+)*)\s*\}\}/g;

/** Header names countersign sets itself or that would let a template re-route the request. */
export const EXECUTOR_RESERVED_HEADERS = ['host', 'content-length', 'transfer-encoding', 'connection', 'idempotency-key'] as const;

/** Header names whose value must come from a `{{secret.NAME}}` placeholder, never a literal. */
export const EXECUTOR_CREDENTIAL_HEADERS = ['authorization', 'proxy-authorization', 'cookie', 'x-api-key', 'api-key'] as const;

const HeaderName = z.string().regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,100}$/, 'not a valid HTTP header name');

export const ExecutorSchema = z.strictObject({
  /** Absolute http(s) URL; placeholders only after the host (the destination is static). */
  url: z.string().min(1).max(2000),
  method: z.enum(['POST', 'PUT', 'PATCH', 'DELETE']).default('POST'),
  headers: z.record(HeaderName, z.string().max(2000)).default({}),
  /** JSON body template; a string that is exactly one placeholder keeps the value's type. */
  body: z.unknown().optional(),
});

export type Executor = z.output<typeof ExecutorSchema>;
export type ExecutorInput = z.input<typeof ExecutorSchema>;

/** Every placeholder path in a template string, in order. */
export function placeholdersIn(text: string): string[] {
  return [...text.matchAll(EXECUTOR_PLACEHOLDER)].map((m) => m[1]!);
}
