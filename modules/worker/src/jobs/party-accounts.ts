import {
  ChannelError,
  identityBinding,
  partiesOf,
  partyEntries,
  personBinding,
  unmatchedParty,
  type ActionRecord,
  type ApprovalChannel,
  type DirectoryView,
  type PartyRole,
} from '@countersign/core';
import type { Person } from '@countersign/contracts';
import type { WorkerDeps } from '../deps.ts';

// Before a channel shows a card, the parties' accounts on it are recorded with the action.
// At submission a party is bound by email and by the chat accounts the directory pins; one it
// does not pin is matched by email when they click. Renamed while the request waits (new id,
// new mailbox, and the chat profile's email following), that account would match the new entry
// and nothing recorded: the requester approved her own request from her own Slack account
// (review s14 d, D1). Recorded here, the account itself is a party, whoever it maps to later.
//
// - A party is found as they were at submission: under their id, else (renamed, same mailbox)
//   by their recorded binding. Found nowhere, their account cannot be told: no card of this
//   channel for the request (a permanent `party_changed`), decided elsewhere.
// - A party the channel finds no account for (users_not_found) may have one under another
//   email (a profile changed before the directory, review s15 b, 1): the request is marked
//   `unmatched:<channel>`, and only accounts the directory pins decide it there (check-vote.ts).
// - Recorded once per channel (the `accounts:<channel>` entry, written with what is new); when
//   nothing is new nothing is written, and a later tier finds the same accounts recorded.

/** Entry of Action.partyBindings saying the parties' accounts on `channel` are recorded. */
export const accountsRecorded = (channel: string): string => `accounts:${channel}`;

/**
 * Records each party's account on `channel`. Throws what the channel throws (the card is not
 * posted until the parties' accounts are known), and a permanent ChannelError when a party
 * cannot be found as they were at submission.
 */
export async function recordPartyAccounts(deps: Pick<WorkerDeps, 'store' | 'config'>, channel: ApprovalChannel, action: ActionRecord): Promise<void> {
  if (!channel.accountOf) return;
  const held = new Set(action.partyBindings ?? []);
  // A request from before parties were bound has nothing to check the directory against.
  if (held.size === 0 || held.has(accountsRecorded(channel.name))) return;
  const directory = deps.config.current().directory;
  const parties = partiesOf(action);
  const entries = new Set<string>();
  for (const { role, personId } of parties) {
    const current = directory.person(personId);
    // Their account here is recorded already (pinned at submission, or an earlier run).
    const account = current ? await channel.accountOf(personId) : null;
    if (account !== null && held.has(`${role}:${identityBinding(account)}`)) continue;
    const people = current && isRecorded(held, role, current) ? [current] : renamed(directory, held, role, parties);
    if (people.length === 0) throw partyChanged(role, personId, channel.name);
    for (const person of people) {
      const identity = person === current ? account : await channel.accountOf(person.id);
      const entry = identity === null ? unmatchedParty(channel.name) : partyEntries(role, [identityBinding(identity)])[0]!;
      if (!held.has(entry)) entries.add(entry);
    }
  }
  if (entries.size === 0) return;
  entries.add(accountsRecorded(channel.name));
  await deps.store.addPartyBindings(action.id, [...entries]);
  action.partyBindings = [...(action.partyBindings ?? []), ...entries];
}

/** Whether `person` is who was recorded at submission in `role` (untagged: a party, before tags). */
function isRecorded(held: ReadonlySet<string>, role: PartyRole, person: Person): boolean {
  const binding = personBinding(person);
  return held.has(`${role}:${binding}`) || (role === 'party' && held.has(binding));
}

/** People recorded in `role` now under an id that is not one of the parties' (renamed). */
function renamed(directory: DirectoryView, held: ReadonlySet<string>, role: PartyRole, parties: ReadonlyArray<{ personId: string }>): Person[] {
  const ids = new Set(parties.map((p) => p.personId));
  return (directory.people?.() ?? []).filter((p) => !ids.has(p.id) && isRecorded(held, role, p));
}

function partyChanged(role: string, personId: string, channel: string): ChannelError {
  return new ChannelError(
    `a party of this request (${role} "${personId}") is no longer in the directory as they were when it was submitted, so their ${channel} account cannot be recorded: no ${channel} card is posted (decide it in the console or another channel)`,
    false,
    'party_changed',
  );
}
