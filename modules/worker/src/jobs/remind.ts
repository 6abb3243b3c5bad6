import { buildCardModel, type CardModel } from '@countersign/core';
import type { JobHandler } from '@countersign/queue';
import type { WorkerDeps } from '../deps.ts';
import { TargetOutcomes } from './outcomes.ts';

/** How long a "reminded" mark outlives the reminder: longer than any retry of its job. */
const MARK_SECONDS = 7 * 24 * 3600;

export function reminderText(card: CardModel): string {
  const progress = card.requirement ? ` ${card.requirement.filled} of ${card.requirement.needed} approvals so far; still needs ${card.requirement.stillNeeds}.` : '';
  const expiry = card.expiresAt ? ` It expires at ${card.expiresAt} and is then refused.` : '';
  return `Reminder: "${card.title}" is still waiting for a decision.${progress}${expiry}`;
}

/**
 * The rule's reminder `index`: a nudge next to every posted card while the action is pending.
 * Postgres does not record reminders, so a mark in Redis per (job, card) keeps a retried job
 * from nudging the same card twice (best effort: reminders are a courtesy, expiry is the
 * safety).
 */
export function remind(deps: WorkerDeps): JobHandler<'remind'> {
  return async ({ actionId, index }, job) => {
    const action = await deps.store.findAction(actionId);
    if (!action || action.status !== 'pending') return;
    const cards = await deps.cards.posted(actionId);
    if (cards.length === 0) return;
    const model = buildCardModel(action, await deps.store.votesFor(actionId), deps.config.current().directory);
    const text = reminderText(model);
    const outcomes = new TargetOutcomes(deps, job, actionId);
    for (const card of cards) {
      const channel = deps.channels.get(card.channel as never);
      if (!channel || !card.messageRef) continue;
      const mark = `remind/${actionId}/${index}/${card.id}`;
      if (await deps.marks.has(mark)) continue;
      const wait = await deps.pacer.take(channel.name, card.target);
      if (wait > 0) {
        outcomes.paced(wait);
        continue;
      }
      try {
        await channel.remind(model, card.messageRef, text);
        await deps.marks.set(mark, MARK_SECONDS);
      } catch (err) {
        outcomes.failed(channel.name, card.target, err);
      }
    }
    await outcomes.settle();
  };
}
