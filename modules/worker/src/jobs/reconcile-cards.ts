import type { ChannelCardRecord } from '@countersign/db';
import { CARD_CLAIM_LEASE_MS, type WorkerDeps } from '../deps.ts';
import type { TargetOutcomes } from './outcomes.ts';
import { isHeld, lookForEarlierSend } from './send-once.ts';

/**
 * Brings every card row of a decided action to an end, so no card is left with live buttons
 * and no row stays in doubt. Rows a post-cards run never finished (a 500 after Slack took the
 * post, a timeout, a worker killed mid-post) would otherwise stay `ambiguous` or `claimed`
 * forever: post-cards stops once the action is decided, and updates go only to posted cards.
 *
 * Each such row is claimed like a post would claim it (under the card lock, by update-cards):
 * - given back (`retry`): nothing went out, so no card exists: `absent`;
 * - in doubt (`ambiguous`, or a claim whose worker died): the channel looks for the message by
 *   the card id stamped on it (findCard); found, it becomes the row's card (`posted`) and is
 *   shown the outcome with the others; not there: `absent`; the channel cannot look (it has no
 *   findCard, e.g. Teams, or refuses, e.g. a missing Slack scope): `unverified`, with why;
 * - still held by a job whose lease runs: that job may yet post it, so the update comes back
 *   once it has (posted) or its lease ran out.
 * A retryable failure to look puts the row back in doubt and retries the update job.
 */
export async function reconcileCards(deps: WorkerDeps, actionId: string, outcomes: TargetOutcomes, unsettled?: ChannelCardRecord[]): Promise<void> {
  for (const row of unsettled ?? (await deps.cards.unsettled(actionId))) {
    const channel = deps.channels.get(row.channel);
    if (!channel) {
      deps.logger.warn({ actionId, channel: row.channel }, 'unconfirmed card of a channel this worker does not run; left for a worker that does');
      continue;
    }
    const claim = await deps.cards.claim({ actionId, channel: row.channel, target: row.target, tier: row.tier }, CARD_CLAIM_LEASE_MS);
    if (!claim.claimed) {
      if (isHeld(claim.card.state)) outcomes.heldElsewhere();
      continue;
    }
    const lookup = await lookForEarlierSend(deps, channel, { target: row.target }, claim.card, outcomes, actionId);
    if ('stop' in lookup) continue;
    const where = { actionId, channel: channel.name, target: row.target };
    if (lookup.found) {
      if (await deps.cards.markPosted(claim.card, lookup.found)) deps.logger.info(where, 'card of a decided action found posted by an unconfirmed attempt; showing the outcome on it');
      continue;
    }
    if (lookup.certain) {
      const why = claim.card.state === 'checking' ? 'decided while the post was unconfirmed; the channel has no such card' : 'decided before it was posted';
      await deps.cards.markClosed(claim.card, 'absent', why);
    } else {
      deps.logger.warn({ ...where, why: lookup.why }, 'card of a decided action may be in the channel and cannot be looked for; a copy there may still show buttons');
      await deps.cards.markClosed(claim.card, 'unverified', `decided while the post was unconfirmed; ${lookup.why}`);
    }
  }
}
