import { DomainError } from '@countersign/contracts';
import type { ActionRecord } from '../action.ts';
import type { Caller } from '../keys/key-service.ts';
import { noopObserver, type GateObserver, type RedemptionResult } from '../observer.ts';
import { cancelAction } from './cancel.ts';
import { checkVote, type VoteCheck, type VoteCheckRequest } from './check-vote.ts';
import type { GateDeps } from './deps.ts';
import { expireIfDue, expireOverdue } from './expire.ts';
import { refuseChangedParty } from './party-changed.ts';
import { overrideRefusal } from './override.ts';
import { mayReceiveRelease, readAction, viewOf, waitForAction } from './read.ts';
import { redeemRelease, type Redemption, type RedeemRequest } from './redeem.ts';
import { submitIntent, type SubmitRequest } from './submit.ts';
import { toView, type ActionView } from './view.ts';
import { castVote, type VoteRequest } from './vote.ts';

/**
 * The engine's front door. HTTP routes, Slack, Teams and queue workers all call these and
 * nothing else; the rules of deciding live behind it, in one place.
 */
export class Gate {
  private readonly observer: GateObserver;

  constructor(readonly deps: GateDeps) {
    this.observer = deps.observer ?? noopObserver;
  }

  async submit(req: SubmitRequest): Promise<{ view: ActionView; replayed: boolean }> {
    const result = await submitIntent(this.deps, req);
    if (result.replayed) return { view: await viewOf(this.deps, result.action, req.caller), replayed: true };
    // A new action has no votes yet and we hold the artifact just sealed: nothing to re-read.
    const { action, artifact } = result;
    this.observer.decided({ outcome: action.outcome, ruleIds: action.ruleIds });
    const release = action.status === 'approved' && mayReceiveRelease(action, req.caller) ? await this.deps.release.issue(action) : undefined;
    // The submitter is the requesting side: it gets the intent its hash was computed over.
    return { view: { ...toView(action, [], artifact, release), normalizedIntent: action.intent }, replayed: false };
  }

  read(id: string, caller: Caller): Promise<ActionView> {
    return readAction(this.deps, id, caller);
  }

  wait(id: string, caller: Caller, waitSeconds: number, signal?: AbortSignal): Promise<ActionView> {
    return waitForAction(this.deps, id, caller, waitSeconds, signal);
  }

  async vote(req: VoteRequest) {
    try {
      const result = await castVote(this.deps, req);
      this.observer.voted({ channel: req.channel, result: req.decision });
      return result;
    } catch (err) {
      // A refusal is the engine's answer (not eligible, already decided, expired…); anything
      // else (the database away) is no answer at all and is not counted as one.
      if (err instanceof DomainError) this.observer.voted({ channel: req.channel, result: 'refused' });
      throw err;
    }
  }

  /** A dry run of vote(): what it would answer now, writing nothing (channels ask before a modal). */
  checkVote(req: Omit<VoteCheckRequest, 'keyId'>): Promise<VoteCheck> {
    return checkVote(this.deps, req);
  }

  async cancel(id: string, caller: Caller, reason: string | null): Promise<ActionView> {
    const action = await cancelAction(this.deps, id, caller, reason);
    return viewOf(this.deps, action, caller);
  }

  override(req: { actionId: string; personId: string; reason: string; keyId?: string }) {
    return overrideRefusal(this.deps, req);
  }

  /** A downstream service redeems a release token: once per approval and audience, sealed. */
  async redeem(req: RedeemRequest): Promise<Redemption> {
    try {
      const redemption = await redeemRelease(this.deps, req);
      this.observer.redeemed({ result: 'redeemed' });
      return redemption;
    } catch (err) {
      if (err instanceof DomainError) this.observer.redeemed({ result: redemptionRefusal(err) });
      throw err;
    }
  }

  expireIfDue(id: string): Promise<boolean> {
    return expireIfDue(this.deps, id);
  }

  expireOverdue(limit?: number): Promise<number> {
    return expireOverdue(this.deps, limit);
  }

  /** Refuses a pending action whose party changed in the directory (see party-changed.ts). */
  refuseChangedParty(id: string, reason: string): Promise<boolean> {
    return refuseChangedParty(this.deps, id, reason);
  }

  /** The action as seen by a decider or a channel: never with a release token. */
  view(action: ActionRecord): Promise<ActionView> {
    return viewOf(this.deps, action);
  }
}

function redemptionRefusal(err: DomainError): RedemptionResult {
  return err.code === 'already_redeemed' ? 'already_redeemed' : 'invalid';
}
