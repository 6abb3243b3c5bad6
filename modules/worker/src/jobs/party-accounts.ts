import { identityBinding, partiesOf, partyEntries, type ActionRecord, type ApprovalChannel } from '@countersign/core';
import type { WorkerDeps } from '../deps.ts';

// Before a channel shows a card, the parties' accounts on it are recorded with the action.
// At submission a party is bound by email and by the chat accounts the directory pins; one it
// does not pin is matched by email when they click. Renamed while the request waits (new id,
// new mailbox, and the chat profile's email following), that account would match the new entry
// and nothing recorded: the requester approved her own request from her own Slack account
// (review s14 d, D1). Recorded here, the account itself is a party, whoever it maps to later.

/**
 * Records each party's account on `channel` (those not recorded yet). Throws what the channel
 * throws: the card is not posted until the parties' accounts are known.
 */
export async function recordPartyAccounts(deps: Pick<WorkerDeps, 'store'>, channel: ApprovalChannel, action: ActionRecord): Promise<void> {
  if (!channel.accountOf) return;
  const held = new Set(action.partyBindings ?? []);
  const entries: string[] = [];
  for (const { role, personId } of partiesOf(action)) {
    const identity = await channel.accountOf(personId);
    if (identity === null) continue;
    for (const entry of partyEntries(role, [identityBinding(identity)])) if (!held.has(entry)) entries.push(entry);
  }
  if (entries.length === 0) return;
  await deps.store.addPartyBindings(action.id, entries);
  action.partyBindings = [...(action.partyBindings ?? []), ...entries];
}
