import { buildCardModel, identityBinding, partyMatch, personIdentities, type ActionRecord, type ApprovalChannel, type ChannelTarget, type VoteRecord } from '@countersign/core';
import { noticeTarget } from '@countersign/db';
import { giveUp, type JobHandler } from '@countersign/queue';
import { NOTICE_CLAIM_LEASE_MS, type WorkerDeps } from '../deps.ts';
import { TargetOutcomes } from './outcomes.ts';
import { accountsRecorded } from './party-accounts.ts';
import { requesterNotice } from './requester-notice.ts';
import { isHeld, lookForEarlierSend, settleFailedSend } from './send-once.ts';

/** Whether any of `identities` is recorded as one of the action's parties (any role). */
function isRecordedParty(action: ActionRecord, identities: readonly string[]): boolean {
  const match = partyMatch(action.partyBindings, identities);
  return match.party || match.owner;
}

/** The person behind the request: who the agent acted for, else the requesting person, else the agent's owner. */
export function requesterOf(action: ActionRecord): string | null {
  return action.onBehalfOf ?? (action.actorKind === 'person' ? action.actorId : action.ownerId);
}

/**
 * Where the channel would DM the person: the same target a card DM'd to them has, so both are
 * paced as one conversation (and an earlier notice can be looked for there). Null when the
 * channel has no such target; notifyPerson then says whether the person can be reached.
 */
async function dmTarget(channel: ApprovalChannel, personId: string): Promise<ChannelTarget | null> {
  const targets = await channel.resolveTargets({ channels: [], people: [personId] });
  return targets.find((t) => t.personId === personId && !t.problem) ?? null;
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
    const found = await deps.store.findActionWithVotes(actionId);
    if (!found) throw giveUp(`no action ${actionId}`);
    const outcomes = new TargetOutcomes(deps, job, actionId);
    await tellRequester(deps, found, outcomes);
    await outcomes.settle();
  };
}

/**
 * The notice itself, for the action as read: the notify-requester job, and the update-cards
 * job of a decision (which tells the requester in the same run, and hands what it could not
 * finish to a notify-requester job of its own). Outcomes go to `outcomes`; the caller settles.
 */
export async function tellRequester(deps: WorkerDeps, found: { action: ActionRecord; votes: VoteRecord[] }, outcomes: TargetOutcomes): Promise<void> {
  const { action, votes } = found;
  const actionId = action.id;
  if (action.status === 'pending') {
    deps.logger.warn({ actionId }, 'notify-requester for an action still pending; nothing to tell');
    return;
  }
  const personId = requesterOf(action);
  if (!personId) {
    deps.logger.info({ actionId }, 'no person behind this request to notify');
    return;
  }
  const directory = deps.config.current().directory;
  // The id may name someone else now (renamed, and the id given to a newcomer): a notice would
  // tell a stranger about someone else's request as if it were theirs (review s16 c, 1).
  // - On a channel whose accounts were recorded before the first card (`accounts:<channel>`),
  //   the account the channel finds for the id now must be one recorded for the action: a
  //   changed email still finds hers (review s16 d, 2); a newcomer given her id and mailbox,
  //   with an account of their own, does not (review s16 e, 2).
  // - Elsewhere, who is under the id must be a party recorded at submission, by email or a
  //   pinned account. Actions from before recorded none.
  const person = directory.person(personId);
  const recorded = !person || (action.partyBindings?.length ?? 0) === 0 || isRecordedParty(action, personIdentities(directory, person));
  const card = buildCardModel(action, votes, directory);
  const text = requesterNotice(action, card);
  for (const channel of deps.channels.values()) {
    if (channel.accountOf !== undefined && (action.partyBindings ?? []).includes(accountsRecorded(channel.name))) {
      let account: string | null;
      try {
        account = (await channel.accountOf!(personId)) ?? null;
      } catch (err) {
        outcomes.failed(channel.name, `notice/${personId}`, err);
        continue;
      }
      if (account === null || !isRecordedParty(action, [identityBinding(account)])) {
        deps.logger.warn({ actionId, personId, channel: channel.name }, 'the requester\'s id names someone else now, or their account here is not the one recorded; not told here');
        continue;
      }
    } else if (!recorded) {
      deps.logger.warn({ actionId, personId, channel: channel.name }, 'the requester\'s id names someone else now; not told here');
      continue;
    }
    const target = noticeTarget(action.status, personId);
    const claim = await deps.cards.claim({ actionId, channel: channel.name, target, tier: 0 }, NOTICE_CLAIM_LEASE_MS);
    if (!claim.claimed) {
      if (isHeld(claim.card.state)) outcomes.heldElsewhere();
      continue;
    }
    let dm: ChannelTarget | null;
    try {
      dm = await dmTarget(channel, personId);
    } catch (err) {
      // Nothing was sent: failed for good, or given back (still in doubt if it was).
      const { retryable, reason } = outcomes.failed(channel.name, target, err);
      if (retryable) await deps.cards.release(claim.card, reason);
      else await deps.cards.markFailed(claim.card, reason);
      continue;
    }
    const lookup = await lookForEarlierSend(deps, channel, dm, claim.card, outcomes, actionId);
    if ('stop' in lookup) continue;
    if (lookup.found) {
      await deps.cards.markNotified(claim.card, true);
      continue;
    }
    // Paced like a card DM'd to the same person: one conversation, one pace.
    const wait = await deps.pacer.take(channel.name, dm?.target ?? `person:${personId}`);
    if (wait > 0) {
      await deps.cards.release(claim.card, null);
      outcomes.paced(wait);
      continue;
    }
    try {
      const reached = await channel.notifyPerson(personId, { actionId, text, card, cardId: claim.card.id });
      await deps.cards.markNotified(claim.card, reached);
    } catch (err) {
      await settleFailedSend(deps, channel.name, claim.card, err, outcomes);
    }
  }
}
