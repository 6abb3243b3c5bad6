import { randomUUID } from 'node:crypto';
import type { RunState, RunToolApprovalItem } from '@openai/agents';

// Which run a gated call belongs to, so that its approval is found again by the same run and by
// nothing else. Nothing in a RunState can tell runs apart on its own: some providers number tool
// calls per conversation (`call_0` every time), proxies repeat one response id, the SDK writes
// 'FAKE_ID' for a streamed response without one, and the run context is the caller's object,
// often one shared by every conversation. So a run is:
// - the `runId` the caller names (their conversation or thread id, unique per conversation and
//   kept with the saved state): a state restored after a restart finds its action again;
// - otherwise the RunContext object of this run (the SDK makes one per run): a restored state
//   has a new one and asks people again (a second request, never a run under another approval).

const localRuns = new WeakMap<object, string>();

export function runIdOf(state: RunState<any, any>, runId: string | undefined): string {
  if (runId !== undefined) return `run:${runId}`;
  let id = localRuns.get(state._context);
  if (!id) {
    id = `local:${randomUUID()}`;
    localRuns.set(state._context, id);
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
