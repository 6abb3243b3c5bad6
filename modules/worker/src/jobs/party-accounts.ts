import { ChannelError, identityBinding, partiesOf, partyEntries, personBinding, type ActionRecord, type ApprovalChannel, type ConfigView } from '@countersign/core';
import type { WorkerDeps } from '../deps.ts';

// Before a channel shows a card, the parties' accounts on it are recorded with the action.
// At submission a party is bound by email and by the chat accounts the directory pins; one it
// does not pin is matched by email when they click. Renamed while the request waits (new id,
// new mailbox, and the chat profile's email following), that account would match the new entry
// and nothing recorded: the requester approved her own request from her own Slack account
// (review s14 d, D1). Recorded here, the account itself is a party, whoever it maps to later.
//
// Recorded once per channel (the `accounts:<channel>` entry, written with the accounts): later
// tiers post without asking again, so a rename while the request waits does not stop them.
// When nothing is new (every party pinned, so recorded at submission, or without an account),
// nothing is written: the escalation path pays no extra transaction in the common case, and a
// later tier checks again (a party renamed meanwhile then stops that tier's cards, fail closed).

/** Entry of Action.partyBindings saying the parties' accounts on `channel` are recorded. */
export const accountsRecorded = (channel: string): string => `accounts:${channel}`;

/**
 * Records each party's account on `channel`. Throws what the channel throws (the card is not
 * posted until the parties' accounts are known), and a permanent ChannelError when a party is
 * no longer in the directory as they were at submission: their account cannot be told, so no
 * card of this channel is posted (review s15 a, A); other channels and the console still ask.
 */
export async function recordPartyAccounts(deps: Pick<WorkerDeps, 'store' | 'config'>, channel: ApprovalChannel, action: ActionRecord): Promise<void> {
  if (!channel.accountOf) return;
  const held = new Set(action.partyBindings ?? []);
  // A request from before parties were bound has nothing to check the directory against.
  if (held.size === 0 || held.has(accountsRecorded(channel.name))) return;
  const entries: string[] = [];
  for (const { role, personId } of partiesOf(action)) {
    assertStillThem(deps.config, held, role, personId, channel.name);
    const identity = await channel.accountOf(personId);
    if (identity === null) continue;
    for (const entry of partyEntries(role, [identityBinding(identity)])) if (!held.has(entry)) entries.push(entry);
  }
  if (entries.length === 0) return;
  entries.push(accountsRecorded(channel.name));
  await deps.store.addPartyBindings(action.id, entries);
  action.partyBindings = [...(action.partyBindings ?? []), ...entries];
}

/** The directory entry under `personId` is still the person recorded at submission. */
function assertStillThem(config: ConfigView, held: ReadonlySet<string>, role: string, personId: string, channel: string): void {
  const person = config.current().directory.person(personId);
  if (person) {
    const binding = personBinding(person);
    // Untagged: written before the tags, a party.
    if (held.has(`${role}:${binding}`) || held.has(binding)) return;
  }
  throw new ChannelError(
    `a party of this request (${role} "${personId}") is no longer in the directory as they were when it was submitted, so their ${channel} account cannot be recorded: no ${channel} card is posted (decide it in the console or another channel)`,
    false,
    'party_changed',
  );
}
