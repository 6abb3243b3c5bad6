import { buildCardModel, type ActionRecord, type VoteRecord } from '@countersign/core';
import { giveUp, type JobContext, type JobHandler } from '@countersign/queue';
import type { WorkerDeps } from '../deps.ts';
import { rerenderCards, withCardLock } from './card-lock.ts';
import { TargetOutcomes } from './outcomes.ts';
import { tellRequester } from './notify-requester.ts';
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
    // What the card lock's run read, for the notice after it.
    const read: { found?: { action: ActionRecord; votes: VoteRecord[] } } = {};
    const run = await withCardLock(deps, actionId, job, async () => {
      const found = await deps.store.findActionWithVotes(actionId);
      if (!found) throw giveUp(`no action ${actionId}`);
      read.found = found;
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
    // The lease ran out under this run (Redis lost it, or the release could not tell): another
    // run may have rendered a newer state meanwhile, and this one an older state after it.
    if (run && !run.heldToEnd) await rerenderCards(deps, actionId);
    if (read.found && read.found.action.status !== 'pending') await noticeAlong(deps, read.found, job);
    await outcomes.settle();
  };
}

/**
 * Once the action is decided, update-cards also tells the requester (one job where two were:
 * on a small machine each BullMQ job costs about as much CPU as the work in it). The notice
 * claim (notify-requester.ts) makes every later run — a retry, the update of a vote that came
 * in as the action was decided, a notify-requester job — a no-op for a notice already sent.
 * Whatever the notice cannot finish in this run (pacing, Retry-After, a retryable failure, an
 * error) goes to a notify-requester job of its own, after the wait it asked for, so a card
 * re-render never waits on it nor repeats for it.
 */
async function noticeAlong(deps: WorkerDeps, found: { action: ActionRecord; votes: VoteRecord[] }, job: JobContext): Promise<void> {
  const notices = new TargetOutcomes(deps, job, found.action.id);
  let failed = false;
  try {
    await tellRequester(deps, found, notices);
  } catch (err) {
    failed = true;
    deps.logger.warn({ actionId: found.action.id, err: (err as Error).message }, 'requester notice failed; handed to a job of its own');
  }
  if (!failed && !notices.unfinished) return;
  // Per decision event, as the job it replaces: the outbox event id ends this job's id.
  const ref = `rest-${(job.jobId.split('/').pop() ?? 'notice').replace(/[^A-Za-z0-9_.-]/g, '_')}`;
  await deps.queues.enqueue('notify-requester', { actionId: found.action.id }, { ref, delayMs: notices.waitMs });
}
