import { toView, type ActionRecord, type ActionView, type GateStore } from '@countersign/core';

/** The webhook body: the action's final view. The release token is left out (it is a bearer credential). */
export interface WebhookEvent {
  id: string;
  type: 'action.decided';
  createdAt: string;
  action: Omit<ActionView, 'releaseToken' | 'releaseTokenExpiresAt'>;
}

export async function webhookEvent(store: GateStore, action: ActionRecord, eventId: string, createdAt: Date): Promise<WebhookEvent> {
  const [votes, artifact] = await Promise.all([
    action.requirement ? store.votesFor(action.id) : Promise.resolve([]),
    store.latestArtifactFor(action.id),
  ]);
  // toView without a release: nothing here can mint or carry a token.
  const view = toView(action, votes, artifact);
  return { id: eventId, type: 'action.decided', createdAt: createdAt.toISOString(), action: view };
}
