import { buildCardModel, ChannelError, type ApprovalChannel, type CardModel, type CardRef, type ChannelTarget } from '@countersign/core';
import { giveUp, type JobHandler } from '@countersign/queue';
import { CARD_CLAIM_LEASE_MS, type WorkerDeps } from '../deps.ts';
import { hintsForChannel, hintsForTier } from '../timers.ts';
import { rerenderCards, withCardLock } from './card-lock.ts';
import { TargetOutcomes } from './outcomes.ts';
import { PARTY_CHANGED, recordPartyAccounts } from './party-accounts.ts';
import { isHeld, lookForEarlierSend, removeOrphan, settleFailedSend } from './send-once.ts';

/** What one target came to in this run. */
type Posted = 'posted' | 'adopted' | 'none';

/**
 * Posts the approval card to every target of one tier, once per (action, channel, target):
 * each target's ChannelCard row is claimed in Postgres before the channel is called, so a
 * retried, stalled or duplicated job skips what is already posted, and a post that may have
 * gone out unconfirmed is looked for before it is posted again (send-once.ts).
 */
export function postCards(deps: WorkerDeps): JobHandler<'post-cards'> {
  return async ({ actionId, tier }, job) => {
    const outcomes = new TargetOutcomes(deps, job, actionId);
    const run = await withCardLock(deps, actionId, job, async (lease): Promise<{ card: CardModel; done: Posted[] } | null> => {
      const found = await deps.store.findActionWithVotes(actionId);
      if (!found) throw giveUp(`no action ${actionId}`);
      const { action, votes } = found;
      // Decided meanwhile: the decision's update-cards job shows the outcome on cards already
      // posted and settles the ones never confirmed (reconcile-cards.ts).
      if (action.status !== 'pending' || !action.requirement) return null;
      const hints = hintsForTier(action.requirement, tier);
      if (!hints) {
        deps.logger.warn({ actionId, tier }, 'post-cards for a tier the requirement does not have; nothing to post');
        return null;
      }
      const card = buildCardModel(action, votes, deps.config.current().directory);
      const done: Posted[] = [];
      for (const channel of deps.channels.values()) {
        const asked = hintsForChannel(hints, channel.name);
        if (asked.channels.length === 0 && asked.people.length === 0) continue;
        try {
          await recordPartyAccounts(deps, channel, action);
        } catch (err) {
          // A party not found as they were: the request is refused, no channel asks about it.
          // Counted like a channel error, but the job did what it should (review s16 c, 5).
          if (err instanceof ChannelError && err.code === PARTY_CHANGED) {
            deps.metrics.channelErrors.inc({ channel: channel.name, code: err.code, retryable: 'false' });
            const closed = await deps.gate.refuseChangedParty(action.id, err.message);
            deps.logger.warn({ actionId, channel: channel.name, closed }, err.message);
            return { card, done };
          }
          outcomes.failed(channel.name, '(recording the parties\' accounts)', err);
          continue;
        }
        let targets: ChannelTarget[];
        try {
          targets = await channel.resolveTargets(asked);
        } catch (err) {
          outcomes.failed(channel.name, '(resolving targets)', err);
          continue;
        }
        for (const target of targets) {
          if (target.problem) {
            await recordProblem(deps, channel, target, { actionId, tier }, outcomes);
            continue;
          }
          await lease.renew();
          done.push(await postOne(deps, channel, target, { actionId, tier }, card, outcomes));
        }
      }
      return { card, done };
    });
    if (run?.value) await rerenderIfNeeded(deps, actionId, run.value.card, run.value.done, run.heldToEnd);
    await outcomes.settle();
  };
}

/**
 * A target the rule names that the channel cannot reach: a failed row and a counted error like
 * any permanent failure. A channel name fails the job for good (the rule is wrong); a person
 * without an account in this channel may well be asked elsewhere, so it is only recorded.
 */
async function recordProblem(deps: WorkerDeps, channel: ApprovalChannel, target: ChannelTarget, key: { actionId: string; tier: number }, outcomes: TargetOutcomes): Promise<void> {
  const problem = target.problem!;
  const fresh = await deps.cards.recordFailed({ actionId: key.actionId, channel: channel.name, target: target.target, tier: key.tier }, `${problem.code}: ${problem.message}`);
  // Recorded by an earlier run (or a lower tier): counted then.
  if (!fresh) return;
  if (target.personId) {
    deps.metrics.channelErrors.inc({ channel: channel.name, code: problem.code, retryable: 'false' });
    deps.logger.warn({ actionId: key.actionId, channel: channel.name, personId: target.personId, code: problem.code }, 'person named by the rule cannot be reached in this channel; not asked here');
  } else {
    outcomes.failed(channel.name, target.target, new ChannelError(problem.message, false, problem.code));
  }
}

async function postOne(
  deps: WorkerDeps,
  channel: ApprovalChannel,
  target: ChannelTarget,
  key: { actionId: string; tier: number },
  card: CardModel,
  outcomes: TargetOutcomes,
): Promise<Posted> {
  const claim = await deps.cards.claim({ actionId: key.actionId, channel: channel.name, target: target.target, tier: key.tier }, CARD_CLAIM_LEASE_MS);
  if (!claim.claimed) {
    // posted: done before (a retry, or an earlier tier asked the same target); failed: for good.
    if (isHeld(claim.card.state)) outcomes.heldElsewhere();
    return 'none';
  }
  const lookup = await lookForEarlierSend(deps, channel, target, claim.card, outcomes, key.actionId);
  if ('stop' in lookup) return 'none';
  if (lookup.found) {
    if (!(await deps.cards.markPosted(claim.card, lookup.found))) return 'none';
    deps.logger.info({ actionId: key.actionId, channel: channel.name, target: target.target }, 'card found posted by an earlier, unconfirmed attempt; not posted again');
    return 'adopted';
  }
  const wait = await deps.pacer.take(channel.name, target.target);
  if (wait > 0) {
    await deps.cards.release(claim.card, null);
    outcomes.paced(wait);
    return 'none';
  }
  let ref: CardRef;
  try {
    ref = await channel.postCard(card, target, { cardId: claim.card.id });
  } catch (err) {
    await settleFailedSend(deps, channel.name, claim.card, err, outcomes);
    return 'none';
  }
  if (!(await deps.cards.markPosted(claim.card, ref))) {
    await removeOrphan(deps, channel, claim.card, ref, card);
    return 'none';
  }
  return 'posted';
}

/**
 * Cards adopted from an earlier attempt show whatever that attempt rendered; cards posted
 * after the lock's lease was lost may show a state older than what update-cards rendered
 * meanwhile. Either way an update-cards job (which takes the lock after us) re-renders every
 * card from the current state. With the lease held throughout, the vote's own update-cards
 * job is waiting for the lock and covers what we posted.
 */
async function rerenderIfNeeded(deps: WorkerDeps, actionId: string, rendered: CardModel, done: Posted[], heldToEnd: boolean): Promise<void> {
  let needed = done.includes('adopted');
  // The release told whether the lease held to the end: a loss at any point since it was
  // taken leaves our token gone from Redis.
  if (!needed && done.includes('posted') && !heldToEnd) {
    const found = await deps.store.findActionWithVotes(actionId);
    if (!found) return;
    const now = buildCardModel(found.action, found.votes, deps.config.current().directory);
    needed = JSON.stringify(now) !== JSON.stringify(rendered);
  }
  if (needed) await rerenderCards(deps, actionId);
}
