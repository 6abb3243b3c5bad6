import { buildCardModel } from '@countersign/core';
import { giveUp, type JobHandler } from '@countersign/queue';
import type { WorkerDeps } from '../deps.ts';
import { withCardLock } from './card-lock.ts';
import { TargetOutcomes } from './outcomes.ts';
import { reconcileCards } from './reconcile-cards.ts';

/**
 * Re-renders every posted card of the action from its current state in Postgres (progress
 * after a vote; outcome, who decided and no buttons once final). Always the current state, so
 * running it again, late or twice, is harmless. Once the action is decided, cards whose post
 * was never confirmed are settled first (reconcile-cards.ts), so a card that did go out shows
 * the outcome too.
 */
export function updateCards(deps: WorkerDeps): JobHandler<'update-cards'> {
  return async ({ actionId }, job) => {
    const outcomes = new TargetOutcomes(deps, job, actionId);
    await withCardLock(deps, actionId, job, async () => {
      const found = await deps.store.findActionWithVotes(actionId);
      if (!found) throw giveUp(`no action ${actionId}`);
      const { action, votes } = found;
      const toRender = await deps.cards.toRender(actionId);
      let cards = toRender.posted;
      const unsettled = toRender.unsettled;
      if (action.status !== 'pending' && unsettled.length > 0) {
        await reconcileCards(deps, actionId, outcomes, unsettled);
        // Reconciling may have found cards that did go out: they are shown the outcome too.
        cards = await deps.cards.posted(actionId);
      }
      if (cards.length === 0) return;
      const model = buildCardModel(action, votes, deps.config.current().directory);
      for (const card of cards) {
        const channel = deps.channels.get(card.channel);
        if (!channel || !card.messageRef) {
          deps.logger.warn({ actionId, channel: card.channel }, 'card of a channel this worker does not run; not updated');
          continue;
        }
        if (deps.pacedUpdates?.has(channel.name)) {
          const wait = await deps.pacer.take(channel.name, card.target);
          if (wait > 0) {
            // Deferred as a whole: the rerun renders the then-current state for every card.
            outcomes.paced(wait);
            continue;
          }
        }
        try {
          await channel.updateCard(model, card.messageRef);
        } catch (err) {
          const { retryable, reason } = outcomes.failed(channel.name, card.target, err);
          if (!retryable) await deps.cards.recordError(card.id, reason);
        }
      }
    });
    await outcomes.settle();
  };
}
