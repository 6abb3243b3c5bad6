import { randomUUID } from 'node:crypto';
import { ApiError, isFinal, TimeoutError, type Action, type Countersign } from './countersign-sdk.ts';
import type { DescribedCall } from './intent.ts';

/** How one gated call ended, before anything is forwarded. */
export type GateOutcome =
  | { kind: 'approved'; action: Action; releaseToken: string }
  | { kind: 'refused' | 'expired' | 'cancelled'; action: Action }
  /** Nobody decided within the proxy's maximum wait: the proxy withdrew the action. */
  | { kind: 'withdrawn'; actionId: string; action: Action | undefined; waitedSeconds: number }
  /** The client cancelled the call while it was held: the proxy withdrew the action. */
  | { kind: 'client-cancelled'; actionId: string | undefined; withdrawn: boolean }
  /** The approved action's recorded intent is not the one described here: never forward. */
  | { kind: 'mismatch'; action: Action; expected: string }
  /** countersign could not decide: unreachable, 5xx, or it refused the request itself (4xx). */
  | { kind: 'unavailable'; detail: string; code: string | undefined };

export interface GateOptions {
  /** The MCP request's signal: aborted when the client sends notifications/cancelled. */
  signal: AbortSignal;
  maxWaitSeconds: number;
  progressEverySeconds: number;
  /** Called when the call is first held and then every `progressEverySeconds` while it waits. */
  onHeld?: (action: Action) => void | Promise<void>;
}

/**
 * Submits the described call as the proxy's own agent identity and waits for the verdict.
 * Never throws for countersign's answers or its absence: every ending is a GateOutcome, and
 * only `approved` (with the recorded intent hash equal to ours) lets the call through.
 */
export async function gateCall(cs: Countersign, call: DescribedCall, opts: GateOptions): Promise<GateOutcome> {
  const idempotencyKey = randomUUID();
  const abortedBefore = opts.signal.aborted;
  let action: Action;
  try {
    action = await cs.submit(call.intent, { signal: opts.signal, idempotencyKey });
  } catch (error) {
    if (!opts.signal.aborted) return unavailable(error);
    if (abortedBefore) return { kind: 'client-cancelled', actionId: undefined, withdrawn: false };
    // Cancelled while the submission was in flight: countersign may have created the action and
    // we never saw its id. The same key finds it (or makes it) so it can be withdrawn.
    const found = await cs.submit(call.intent, { idempotencyKey }).catch(() => undefined);
    if (!found || isFinal(found.status)) return { kind: 'client-cancelled', actionId: found?.id, withdrawn: false };
    const withdrawn = await cancelQuietly(cs, found.id, CLIENT_CANCELLED);
    return { kind: 'client-cancelled', actionId: found.id, withdrawn: withdrawn?.status === 'cancelled' };
  }
  if (!isFinal(action.status)) {
    const held = await waitWhileHeld(cs, action, opts);
    if ('kind' in held) return held;
    action = held;
  }
  return verdictOf(action, call);
}

const CLIENT_CANCELLED = 'the MCP client cancelled the tool call';

async function waitWhileHeld(cs: Countersign, submitted: Action, opts: GateOptions): Promise<Action | GateOutcome> {
  const started = Date.now();
  const deadline = started + opts.maxWaitSeconds * 1000;
  let last = submitted;
  await report(opts, last);
  for (;;) {
    const remaining = deadline - Date.now();
    if (remaining <= 0) return withdraw(cs, submitted.id, last, Math.round((Date.now() - started) / 1000));
    try {
      // Long-polls for at most one progress interval, so the client hears from us meanwhile.
      return await cs.waitForDecision(submitted.id, { signal: opts.signal, timeout: Math.min(remaining, opts.progressEverySeconds * 1000) });
    } catch (error) {
      if (opts.signal.aborted) {
        const withdrawn = await cancelQuietly(cs, submitted.id, CLIENT_CANCELLED);
        return { kind: 'client-cancelled', actionId: submitted.id, withdrawn: withdrawn?.status === 'cancelled' };
      }
      if (!(error instanceof TimeoutError)) return unavailable(error);
      if (error.action) last = error.action;
      await report(opts, last);
    }
  }
}

async function withdraw(cs: Countersign, id: string, last: Action, waitedSeconds: number): Promise<Action | GateOutcome> {
  const after = await cancelQuietly(cs, id, `no decision within the MCP proxy's maximum wait (${waitedSeconds}s)`);
  // Decided a moment before the withdrawal reached it: that decision stands.
  if (after && after.status !== 'cancelled' && isFinal(after.status)) return after;
  return { kind: 'withdrawn', actionId: id, action: after ?? last, waitedSeconds };
}

function verdictOf(action: Action, call: DescribedCall): GateOutcome {
  switch (action.status) {
    case 'approved':
      // The server recorded the hash of what it approved; forward only if it is what we hold.
      if (action.intentHash !== call.intentHash) return { kind: 'mismatch', action, expected: call.intentHash };
      if (!action.releaseToken) return { kind: 'unavailable', detail: `action ${action.id} is approved but came without a release token`, code: undefined };
      return { kind: 'approved', action, releaseToken: action.releaseToken };
    case 'refused':
    case 'expired':
    case 'cancelled':
      return { kind: action.status, action };
    default:
      return { kind: 'unavailable', detail: `action ${action.id} is still ${action.status}`, code: undefined };
  }
}

async function report(opts: GateOptions, action: Action): Promise<void> {
  try {
    await opts.onHeld?.(action);
  } catch {
    // A client that cannot take a progress notification still gets its result.
  }
}

/** The action after withdrawing it, or undefined when countersign could not be asked. */
async function cancelQuietly(cs: Countersign, id: string, reason: string): Promise<Action | undefined> {
  try {
    return await cs.cancel(id, reason);
  } catch (error) {
    if (error instanceof ApiError && error.status < 500) {
      // Already decided (409): read what it became.
      return cs.get(id).catch(() => undefined);
    }
    return undefined;
  }
}

function unavailable(error: unknown): GateOutcome {
  if (error instanceof ApiError) return { kind: 'unavailable', detail: `${error.status} ${error.code}: ${error.problem.detail}`, code: error.code };
  return { kind: 'unavailable', detail: error instanceof Error ? error.message : String(error), code: undefined };
}
