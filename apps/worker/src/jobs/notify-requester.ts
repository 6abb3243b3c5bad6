import { buildCardModel, type ActionRecord } from '@countersign/core';
import { noticeTarget } from '@countersign/db';
import { giveUp, type JobHandler } from '@countersign/queue';
import { CARD_CLAIM_LEASE_MS, type WorkerDeps } from '../deps.ts';
import { TargetOutcomes } from './outcomes.ts';

/** The person behind the request: who the agent acted for, else the requesting person, else the agent's owner. */
export function requesterOf(action: ActionRecord): string | null {
  return action.onBehalfOf ?? (action.actorKind === 'person' ? action.actorId : action.ownerId);
}

/**
 * Tells the requester the outcome through every channel that can reach them, at most once per
 * (channel, outcome): the notice is claimed as a ChannelCard row with target
 * `notice/<status>/<personId>` (state sent, or unreachable when the channel cannot reach the
 * person), so retries and duplicate jobs never DM twice, while an override that turns a
 * refusal into an approval is still told.
 */
export function notifyRequester(deps: WorkerDeps): JobHandler<'notify-requester'> {
  return async ({ actionId }, job) => {
    const action = await deps.store.findAction(actionId);
    if (!action) throw giveUp(`no action ${actionId}`);
    if (action.status === 'pending') {
      deps.logger.warn({ actionId }, 'notify-requester for an action still pending; nothing to tell');
      return;
    }
    const personId = requesterOf(action);
    if (!personId) {
      deps.logger.info({ actionId }, 'no person behind this request to notify');
      return;
    }
    const card = buildCardModel(action, await deps.store.votesFor(actionId), deps.config.current().directory);
    const text = `Your request "${card.title}" (${actionId}): ${card.outcome?.text ?? action.status}.`;
    const outcomes = new TargetOutcomes(deps, job, actionId);
    for (const channel of deps.channels.values()) {
      const target = noticeTarget(action.status, personId);
      const claim = await deps.cards.claim({ actionId, channel: channel.name, target, tier: 0 }, CARD_CLAIM_LEASE_MS);
      if (!claim.claimed) {
        if (claim.card.state === 'claimed') outcomes.heldElsewhere();
        continue;
      }
      const wait = await deps.pacer.take(channel.name, `person:${personId}`);
      if (wait > 0) {
        await deps.cards.release(claim.card.id, null);
        outcomes.paced(wait);
        continue;
      }
      try {
        const reached = await channel.notifyPerson(personId, { actionId, text, card });
        await deps.cards.markNotified(claim.card.id, reached);
      } catch (err) {
        const { retryable, reason } = outcomes.failed(channel.name, target, err);
        if (retryable) await deps.cards.release(claim.card.id, reason);
        else await deps.cards.markFailed(claim.card.id, reason);
      }
    }
    await outcomes.settle();
  };
}
