import { randomUUID } from 'node:crypto';
import type { RunContext, RunState, RunToolApprovalItem } from '@openai/agents';

// Which run a gated call belongs to, so that its approval is found again by a resume of the same
// run (after a restart too) and by nothing else. Nothing the model or the provider says can tell
// runs apart: some providers number tool calls per conversation (`call_0` every time), proxies
// repeat one response id, and the SDK itself writes 'FAKE_ID' for a streamed response without
// one. So the run gets an id of ours, written into the run context the first time a gated call
// of the run asks for approval (needsApproval, before the run stops and the state can be saved),
// and serialised with the state from then on.

/** The run context key holding the run's id (a namespaced key among the caller's own). */
export const RUN_ID_KEY = 'countersign:runId';

type ContextHolder = { context: unknown };

function stamp(context: unknown): string | undefined {
  if (!context || typeof context !== 'object') return undefined;
  const held = (context as Record<string, unknown>)[RUN_ID_KEY];
  if (typeof held === 'string' && held !== '') return held;
  if (!Object.isExtensible(context)) return undefined;
  const id = randomUUID();
  (context as Record<string, unknown>)[RUN_ID_KEY] = id;
  return id;
}

/** Gives the run its id, once (called from needsApproval, before the run stops). */
export function stampRun(runContext: RunContext<unknown> | ContextHolder): void {
  stamp(runContext.context);
}

/** A new run from the same context object (a caller reusing one) gets an id of its own. */
export function forgetRun(context: unknown): void {
  if (context && typeof context === 'object' && Object.isExtensible(context)) delete (context as Record<string, unknown>)[RUN_ID_KEY];
}

/**
 * The run's id from the state's context; when the context cannot hold one (not an object,
 * frozen), one kept for this state object only: a state restored elsewhere then asks people
 * again (a second request, never a run under another approval).
 */
export function runIdOf(state: RunState<any, any>, local: WeakMap<object, string>): string {
  const stamped = stamp(state._context.context);
  if (stamped) return `run:${stamped}`;
  let id = local.get(state);
  if (!id) {
    id = `local:${randomUUID()}`;
    local.set(state, id);
  }
  return id;
}

/**
 * Where in the run the call was made: the index of the model response that holds it. Two turns
 * of one run may both say `call_0` with the same arguments; each is its own call.
 */
export function turnOf(state: RunState<any, any>, item: RunToolApprovalItem, callId: string): number {
  const raw = item.rawItem as { id?: string };
  for (let i = state._modelResponses.length - 1; i >= 0; i--) {
    const made = state._modelResponses[i]!.output.some((out) => out.type === 'function_call' && out.callId === callId && (raw.id === undefined || out.id === raw.id));
    if (made) return i;
  }
  return -1;
}
