import { ChannelError, type ApprovalChannel, type CardModel, type CardRef, type ChannelTarget } from '@countersign/core';
import type { CardState, ChannelCardRecord } from '@countersign/db';
import { FIND_CARD_SKEW_MS, type WorkerDeps } from '../deps.ts';
import type { TargetOutcomes } from './outcomes.ts';

// Sending a card or a notice at most once in practice. The ChannelCard claim keeps two jobs
// from sending at the same time; what is left is a send that failed in a way that leaves open
// whether the chat service took it (a timeout, a 5xx after the request went out). Such a claim
// is kept `ambiguous`, and whoever claims it next (`checking`) first asks the channel for the
// message, found by the card id stamped on it, and adopts it instead of sending again.

/** A row some job is working on right now (until its lease runs out). */
export function isHeld(state: CardState): boolean {
  return state === 'claimed' || state === 'checking';
}

/** Whether a failed send may nevertheless have reached the channel; an unknown error may have. */
export function mayHaveGoneOut(err: unknown): boolean {
  return err instanceof ChannelError ? err.ambiguous : true;
}

/**
 * What an earlier attempt left: its message, or null; `certain` false when nobody could look
 * (then `why`). Posters send again either way (a duplicate beats no card); reconciliation
 * records which it was.
 */
export type Lookup = { found: CardRef; certain: true } | { found: null; certain: true } | { found: null; certain: false; why: string } | { stop: true };

/**
 * Under a `checking` claim: the message an earlier attempt may have left, or null (any other
 * claim: nothing can have gone out). A channel that cannot look, or cannot for good (a missing
 * scope), gives an uncertain null. A retryable failure to look puts the claim back in doubt
 * (`stop`).
 */
export async function lookForEarlierSend(
  deps: WorkerDeps,
  channel: ApprovalChannel,
  target: ChannelTarget | null,
  claim: ChannelCardRecord,
  outcomes: TargetOutcomes,
  actionId: string,
): Promise<Lookup> {
  if (claim.state !== 'checking') return { found: null, certain: true };
  const where = { actionId, channel: channel.name, target: claim.target };
  if (!channel.findCard || !target) {
    deps.logger.warn(where, 'an earlier attempt may have gone out and the channel cannot look for it');
    return { found: null, certain: false, why: 'the channel cannot look for it' };
  }
  try {
    const found = await channel.findCard(target, claim.id, new Date(claim.createdAt.getTime() - FIND_CARD_SKEW_MS));
    return found ? { found, certain: true } : { found: null, certain: true };
  } catch (err) {
    if (err instanceof ChannelError && !err.retryable) {
      deps.metrics.channelErrors.inc({ channel: channel.name, code: err.code, retryable: 'false' });
      deps.logger.error({ ...where, code: err.code, err: err.message }, 'cannot look for an earlier attempt, which may show it twice');
      return { found: null, certain: false, why: `${err.code}: ${err.message}` };
    }
    const { reason } = outcomes.failed(channel.name, claim.target, err);
    await deps.cards.release(claim, reason);
    return { stop: true };
  }
}

/** Settles a claim whose send failed: failed for good, in doubt, or given back for a retry. */
export async function settleFailedSend(deps: WorkerDeps, channel: string, claim: ChannelCardRecord, err: unknown, outcomes: TargetOutcomes): Promise<void> {
  const { retryable, reason } = outcomes.failed(channel, claim.target, err);
  if (!retryable) await deps.cards.markFailed(claim, reason);
  else if (mayHaveGoneOut(err)) await deps.cards.markAmbiguous(claim, reason);
  else await deps.cards.release(claim, reason);
}

function sameRef(a: CardRef | null, b: CardRef): boolean {
  if (!a) return false;
  const keys = Object.keys(b);
  return keys.length === Object.keys(a).length && keys.every((k) => JSON.stringify(a[k]) === JSON.stringify(b[k]));
}

/**
 * Our card went out after our claim had been taken over (we were presumed dead): the row
 * belongs to the new claimer, so ours would never be updated and would keep live buttons.
 * Unless the new claimer adopted this very message, it is deleted, or, where the channel
 * cannot delete, shown without buttons.
 */
export async function removeOrphan(
  deps: WorkerDeps,
  channel: ApprovalChannel,
  claim: ChannelCardRecord,
  ref: CardRef,
  card: CardModel,
): Promise<void> {
  const now = await deps.cards.get(claim.id);
  if (now?.state === 'posted' && sameRef(now.messageRef, ref)) return;
  const where = { actionId: claim.actionId, channel: channel.name, target: claim.target };
  deps.logger.error(where, 'card posted after its claim was taken over; removing this copy');
  try {
    if (channel.deleteCard) await channel.deleteCard(ref);
    else await channel.updateCard({ ...card, actionable: false }, ref);
  } catch (err) {
    // Not retried (no row remembers this copy): counted, and logged with where it is.
    const code = err instanceof ChannelError ? err.code : 'unexpected';
    deps.metrics.channelErrors.inc({ channel: channel.name, code, retryable: String(err instanceof ChannelError && err.retryable) });
    deps.logger.error({ ...where, ref, code, err: (err as Error).message }, 'could not remove the extra card; remove it by hand');
  }
}
