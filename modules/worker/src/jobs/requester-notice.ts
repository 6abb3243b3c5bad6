import type { ActionRecord, CardModel } from '@countersign/core';

/**
 * The DM text telling the requester the outcome. When an agent acted on someone's behalf, the
 * summary is the agent's words, not the person's request and not countersign's: it is quoted as
 * what the agent says, next to who the agent is, so a delegate key cannot speak to a person (an
 * approver, say) in a voice that looks like theirs or like the service's.
 */
export function requesterNotice(action: ActionRecord, card: Pick<CardModel, 'title' | 'outcome' | 'who'>): string {
  const outcome = card.outcome?.text ?? action.status;
  if (action.onBehalfOf !== null && action.actorId !== action.onBehalfOf) {
    return `${card.who.actor} made a request on your behalf (${action.id}); the agent says: “${card.title}”. Outcome: ${outcome}.`;
  }
  return `Your request "${card.title}" (${action.id}): ${outcome}.`;
}
