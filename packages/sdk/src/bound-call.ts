import { DecisionError, TimeoutError } from './errors.ts';
import { canonicalJson, intentHash } from './intent-hash.ts';
import type { IntentInput } from './types.ts';

// For agent frameworks' tools (the adapters for the AI SDK, LangGraph and the OpenAI Agents SDK
// use it): a tool call described as an intent whose params are exactly the arguments that run.

/** How a tool call is described to countersign: the call's arguments always become `action.params`. */
export type DescribeCall<A> = (args: A) => IntentInput;

export interface BoundCall<A> {
  /** The arguments as canonical JSON data, deeply frozen: what runs is what was hashed. */
  args: A;
  intent: IntentInput;
  intentHash: string;
}

/** The intent for one call, bound to a frozen canonical copy of its arguments. */
export function bindCall<A>(describe: DescribeCall<A>, args: A): BoundCall<A> {
  const frozen = deepFreeze(JSON.parse(canonicalJson(args ?? {})) as A);
  const described = describe(frozen);
  const intent = deepFreeze({ ...described, action: { ...described.action, params: frozen as Record<string, unknown> } });
  return { args: frozen, intent, intentHash: intentHash(intent) };
}

/** What the model reads when countersign did not approve: what happened, why, and the action id. */
export function notApprovedText(error: unknown): string {
  if (error instanceof DecisionError) {
    const why = error.reasons.length ? error.reasons.join('; ') : 'no reason given';
    const what = { refused: 'countersign refused this call', expired: 'nobody approved this call before the request expired', cancelled: 'the approval request was withdrawn' }[error.status as 'refused' | 'expired' | 'cancelled'] ?? `the call ended ${error.status}`;
    return `${what} (action ${error.actionId}): ${why}. It was not run.`;
  }
  if (error instanceof TimeoutError) return `no decision on action ${error.actionId} in time${error.withdrawn ? '; the request was withdrawn' : ''}. It was not run.`;
  return `countersign could not decide on this call (${error instanceof Error ? error.message : String(error)}), so it was not run.`;
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    for (const item of Object.values(value)) deepFreeze(item);
    Object.freeze(value);
  }
  return value;
}
