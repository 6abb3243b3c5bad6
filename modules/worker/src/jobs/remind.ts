import { buildCardModel, type CardModel } from '@countersign/core';
import type { JobHandler } from '@countersign/queue';
import { NOTICE_CLAIM_LEASE_MS, type WorkerDeps } from '../deps.ts';
import { TargetOutcomes } from './outcomes.ts';
import { isHeld, settleFailedSend } from './send-once.ts';

export function reminderText(card: CardModel): string {
  const progress = card.requirement ? ` ${card.requirement.filled} of ${card.requirement.needed} approvals so far; still needs ${card.requirement.stillNeeds}.` : '';
  const expiry = card.expiresAt ? ` It expires at ${card.expiresAt} and is then refused.` : '';
  return `Reminder: "${card.title}" is still waiting for a decision.${progress}${expiry}`;
}

/**
 * The rule's reminder `index`: a nudge next to every posted card while the action is pending.
 * Each (reminder, card) is claimed as a row of its own in Postgres before it is sent and marked
 * sent after, so neither a retried job nor one the sweeper rebuilt after Redis lost it (even
 * once its time has passed) nudges the same card twice.
 */
export function remind(deps: WorkerDeps): JobHandler<'remind'> {
  return async ({ actionId, index }, job) => {
    const found = await deps.store.findActionWithVotes(actionId);
    if (!found || found.action.status !== 'pending') return;
    const { action, votes } = found;
    const cards = await deps.cards.posted(actionId);
    if (cards.length === 0) return;
    const model = buildCardModel(action, votes, deps.config.current().directory);
    const text = reminderText(model);
    const outcomes = new TargetOutcomes(deps, job, actionId);
    for (const card of cards) {
      const channel = deps.channels.get(card.channel);
      if (!channel || !card.messageRef) continue;
      const claim = await deps.cards.claimReminder(card, index, NOTICE_CLAIM_LEASE_MS);
      if (!claim.claimed) {
        // sent (or failed for good) before; or another run is sending it right now.
        if (isHeld(claim.card.state)) outcomes.heldElsewhere();
        continue;
      }
      const wait = await deps.pacer.take(channel.name, card.target);
      if (wait > 0) {
        await deps.cards.release(claim.card, null);
        outcomes.paced(wait);
        continue;
      }
      try {
        // A reply cannot be looked for like a card: one whose answer was lost is sent again.
        await channel.remind(model, card.messageRef, text);
        await deps.cards.markNotified(claim.card, true);
      } catch (err) {
        await settleFailedSend(deps, channel.name, claim.card, err, outcomes);
      }
    }
    await outcomes.settle();
  };
}
