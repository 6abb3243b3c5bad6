import { buildCardModel, type ApprovalChannel, type ChannelTarget } from '@countersign/core';
import { giveUp, type JobHandler } from '@countersign/queue';
import { CARD_CLAIM_LEASE_MS, type WorkerDeps } from '../deps.ts';
import { hintsForChannel, hintsForTier } from '../timers.ts';
import { withCardLock } from './card-lock.ts';
import { TargetOutcomes } from './outcomes.ts';

/**
 * Posts the approval card to every target of one tier, once per (action, channel, target):
 * each target's ChannelCard row is claimed in Postgres before the channel is called, so a
 * retried, stalled or duplicated job skips what is already posted.
 */
export function postCards(deps: WorkerDeps): JobHandler<'post-cards'> {
  return async ({ actionId, tier }, job) => {
    const outcomes = new TargetOutcomes(deps, job, actionId);
    await withCardLock(deps, actionId, job, async () => {
      const action = await deps.store.findAction(actionId);
      if (!action) throw giveUp(`no action ${actionId}`);
      // Decided meanwhile: the decision's update-cards job shows the outcome on cards already posted.
      if (action.status !== 'pending' || !action.requirement) return;
      const hints = hintsForTier(action.requirement, tier);
      if (!hints) {
        deps.logger.warn({ actionId, tier }, 'post-cards for a tier the requirement does not have; nothing to post');
        return;
      }
      const card = buildCardModel(action, await deps.store.votesFor(actionId), deps.config.current().directory);
      for (const channel of deps.channels.values()) {
        const asked = hintsForChannel(hints, channel.name);
        if (asked.channels.length === 0 && asked.people.length === 0) continue;
        let targets: ChannelTarget[];
        try {
          targets = await channel.resolveTargets(asked);
        } catch (err) {
          outcomes.failed(channel.name, '(resolving targets)', err);
          continue;
        }
        for (const target of targets) await postOne(deps, channel, target, { actionId, tier }, card, outcomes);
      }
    });
    await outcomes.settle();
  };
}

async function postOne(
  deps: WorkerDeps,
  channel: ApprovalChannel,
  target: ChannelTarget,
  key: { actionId: string; tier: number },
  card: ReturnType<typeof buildCardModel>,
  outcomes: TargetOutcomes,
): Promise<void> {
  const claim = await deps.cards.claim({ actionId: key.actionId, channel: channel.name, target: target.target, tier: key.tier }, CARD_CLAIM_LEASE_MS);
  if (!claim.claimed) {
    // posted: done before (a retry, or an earlier tier asked the same target); failed: for good.
    if (claim.card.state === 'claimed') outcomes.heldElsewhere();
    return;
  }
  const wait = await deps.pacer.take(channel.name, target.target);
  if (wait > 0) {
    await deps.cards.release(claim.card.id, null);
    outcomes.paced(wait);
    return;
  }
  let ref: Record<string, unknown>;
  try {
    ref = await channel.postCard(card, target);
  } catch (err) {
    const { retryable, reason } = outcomes.failed(channel.name, target.target, err);
    if (retryable) await deps.cards.release(claim.card.id, reason);
    else await deps.cards.markFailed(claim.card.id, reason);
    return;
  }
  if (!(await deps.cards.markPosted(claim.card.id, ref))) {
    deps.logger.error({ actionId: key.actionId, channel: channel.name, target: target.target }, 'card posted after its claim was taken over; it may appear twice');
  }
}
