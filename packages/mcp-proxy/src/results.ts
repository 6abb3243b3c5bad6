import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { Action } from './countersign-sdk.ts';
import type { GateOutcome } from './gate.ts';

// What the model reads when a call is not run: what happened, why, and the action id, so it
// can tell its user and nobody mistakes a refusal for a tool failure. `_meta` carries the same
// for programs.

export const META_KEY = 'io.countersign/action';

export function notRun(text: string, action?: { id: string; status: string }): CallToolResult {
  return {
    isError: true,
    content: [{ type: 'text', text }],
    ...(action ? { _meta: { [META_KEY]: { id: action.id, status: action.status } } } : {}),
  };
}

export function unmappedResult(toolName: string): CallToolResult {
  return notRun(
    `countersign refused the call: the tool "${toolName}" is not mapped to an action in the MCP proxy's configuration, so it cannot be approved. It was not run.`,
  );
}

export function mappingErrorResult(toolName: string, detail: string): CallToolResult {
  return notRun(`countersign refused the call to "${toolName}": its arguments could not be described as an action (${detail}). It was not run.`);
}

/** The result for every gate ending except an approval that was forwarded. */
export function outcomeResult(outcome: Exclude<GateOutcome, { kind: 'approved' }>): CallToolResult {
  switch (outcome.kind) {
    case 'refused': {
      const a = outcome.action;
      const override = a.overridable?.roles.length ? ` A person with the role ${a.overridable.roles.join(' or ')} may override it.` : '';
      return notRun(`countersign refused this call (action ${a.id}): ${reasons(a)}. It was not run.${override}`, a);
    }
    case 'expired':
      return notRun(`Nobody approved this call before the request expired (action ${outcome.action.id}): ${reasons(outcome.action)}. It was not run.`, outcome.action);
    case 'cancelled':
      return notRun(`The approval request was withdrawn (action ${outcome.action.id}): ${reasons(outcome.action)}. It was not run.`, outcome.action);
    case 'withdrawn':
      return notRun(
        `No decision within ${outcome.waitedSeconds}s, the longest this proxy waits; it withdrew the request (action ${outcome.actionId}). It was not run; ask again later or ask the approvers directly.`,
        { id: outcome.actionId, status: outcome.action?.status ?? 'cancelled' },
      );
    case 'client-cancelled':
      return notRun(
        `The call was cancelled by the client while it waited for approval${outcome.actionId ? ` (action ${outcome.actionId}, ${outcome.withdrawn ? 'withdrawn' : 'not withdrawn'})` : ''}. It was not run.`,
        outcome.actionId ? { id: outcome.actionId, status: outcome.withdrawn ? 'cancelled' : 'unknown' } : undefined,
      );
    case 'mismatch':
      return notRun(
        `countersign approved action ${outcome.action.id}, but for different arguments than this call's (intent hash ${outcome.action.intentHash}, expected ${outcome.expected}). It was not run.`,
        outcome.action,
      );
    case 'unavailable':
      return notRun(`countersign could not decide on this call (${outcome.detail}), so it was refused and not run. Try again when countersign is reachable.`);
  }
}

/** While held: who still has to approve, for progress notifications. */
export function heldMessage(action: Action): string {
  const open = action.progress?.open ?? [];
  const waitingFor = open.length ? open.map((g) => `${g.count} × ${g.role}`).join(', ') : 'approvers';
  const until = action.expiresAt ? `, expires ${action.expiresAt}` : '';
  return `waiting for approval by ${waitingFor} (action ${action.id}${until})`;
}

function reasons(action: Action): string {
  const list = [...action.reasons, ...(action.decisionReason && !action.reasons.includes(action.decisionReason) ? [action.decisionReason] : [])];
  return list.length ? list.join('; ') : 'no reason given';
}
