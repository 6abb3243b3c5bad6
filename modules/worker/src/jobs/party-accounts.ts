import {
  ChannelError,
  identityBinding,
  partiesOf,
  partyEntries,
  personBinding,
  personIdentities,
  partyMatch,
  approverAtMark,
  approversRecorded,
  pinnedApprover,
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
// - A party is found as they were at submission: the entry under their id if its email or a
//   pinned account is recorded for them, else the one entry that now carries a pinned account
//   recorded for them (renamed, pin kept). A mailbox alone never finds someone under another
//   id: it may have been given to someone else (review s15 c, C2). Found nowhere, their account
//   cannot be told: no card of this channel for the request (a permanent `party_changed`).
// - A party the channel finds no account for (users_not_found) may have one under another
//   email (a profile changed before the directory, review s15 b, 1): the request is marked
//   `unmatched:<channel>`, and who may approve now is recorded with the mark (approversNow):
//   only they approve it, on that channel only from accounts pinned to them now (check-vote.ts).
//   Not for an owner the rule lets approve.
// - Recorded once per channel (the `accounts:<channel>` entry, written with what is new); when
//   nothing is new nothing is written, and a later tier finds the same accounts recorded.

/** Entry of Action.partyBindings saying the parties' accounts on `channel` are recorded. */
export const accountsRecorded = (channel: string): string => `accounts:${channel}`;

/**
 * Records each party's account on `channel`. Throws what the channel throws (the card is not
 * posted until the parties' accounts are known), and a permanent ChannelError when a party
 * cannot be found as they were at submission.
 */
export async function recordPartyAccounts(deps: Pick<WorkerDeps, 'store' | 'config' | 'logger'>, channel: ApprovalChannel, action: ActionRecord): Promise<void> {
  if (!channel.accountOf) return;
  const held = new Set(action.partyBindings ?? []);
  // A request from before parties were bound has nothing to check the directory against.
  if (held.size === 0 || held.has(accountsRecorded(channel.name))) return;
  const directory = deps.config.current().directory;
  // An owner the rule lets approve is no reason to refuse anyone: nothing to record for them.
  const parties = partiesOf(action).filter((p) => !(p.role === 'owner' && action.requirement?.ownerMayApprove));
  const partyIds = new Set(parties.map((p) => p.personId));
  const entries = new Set<string>();
  // Each party is a different person: two resolving to one (a co-party's pin taken for a renamed
  // party, review s15 d, E1) would leave the renamed one's account unrecorded.
  const resolved = new Map<string, string>();
  for (const { role, personId } of parties) {
    const person = asRecorded(directory, held, role, personId, partyIds);
    if (!person) throw partyChanged(role, personId, channel.name);
    const earlier = resolved.get(person.id);
    if (earlier !== undefined && earlier !== personId) throw partyChanged(role, personId, channel.name);
    resolved.set(person.id, personId);
    const identity = await channel.accountOf(person.id);
    if (identity !== null) {
      const entry = partyEntries(role, [identityBinding(identity)])[0]!;
      if (!held.has(entry)) entries.add(entry);
    } else if (!held.has(unmatchedParty(channel.name))) {
      deps.logger.warn({ actionId: action.id, channel: channel.name, role, personId: person.id }, 'party has no account this channel could find by email: only accounts the directory pins approve this request in this channel');
      entries.add(unmatchedParty(channel.name));
    }
  }
  // Marked now: who may approve, and the accounts the directory pins to them, as they are now.
  const approvers = entries.has(unmatchedParty(channel.name)) ? approversNow(directory, action, channel.name) : undefined;
  if (entries.size === 0) return;
  entries.add(accountsRecorded(channel.name));
  await deps.store.addPartyBindings(action.id, [...entries], approvers);
  action.partyBindings = [...(action.partyBindings ?? []), ...entries];
  if (approvers && !action.approversAtMark?.length) action.approversAtMark = approvers;
}

/** The party recorded in `role` under `personId`, as the directory has them now (see above). */
function asRecorded(directory: DirectoryView, held: ReadonlySet<string>, role: PartyRole, personId: string, partyIds: ReadonlySet<string>): Person | undefined {
  const current = directory.person(personId);
  if (current && (recordedAs(held, role, personBinding(current)) || pins(directory, current).some((pin) => recordedAs(held, role, pin)))) return current;
  // Under another id: never one of the parties' own (their pins are recorded too).
  const byPin = (directory.people?.() ?? []).filter((p) => !partyIds.has(p.id) && pins(directory, p).some((pin) => recordedAs(held, role, pin)));
  return byPin.length === 1 ? byPin[0] : undefined;
}

/**
 * Action.approversAtMark for a request marked unmatched on `channel`: everyone holding a role the
 * requirement asks for (approverAtMark) and each of their accounts on `channel` the directory
 * pins (pinnedApprover). Only they approve it (check-vote.ts). Kept out of partyBindings, which
 * every vote check reads in full: a large role would make "who can still decide" quadratic
 * (review s16 a, F2).
 */
function approversNow(directory: DirectoryView, action: ActionRecord, channel: string): string[] {
  const roles = new Set((action.requirement?.groups ?? []).map((g) => g.role));
  const owner = action.requirement?.ownerMayApprove ? null : action.ownerId;
  const out: string[] = [approversRecorded(channel)];
  for (const person of directory.people?.() ?? []) {
    if (!person.roles.some((r) => roles.has(r))) continue;
    // A party could never approve it: not one of those to ask (review s16 c, 3).
    const party = partyMatch(action.partyBindings, personIdentities(directory, person));
    if (party.party || party.owner || person.id === owner) continue;
    const binding = personBinding(person);
    out.push(approverAtMark(binding));
    for (const identity of directory.identitiesOf?.(person.id) ?? []) {
      if (identity.startsWith(`${channel}:`)) out.push(pinnedApprover(channel, identity, binding));
    }
  }
  return out;
}

/** Digests of the chat accounts the directory pins to `person`. */
function pins(directory: DirectoryView, person: Person): string[] {
  return (directory.identitiesOf?.(person.id) ?? []).map(identityBinding);
}

/** Whether `binding` is recorded in `role` (untagged: written before the tags, any role). */
function recordedAs(held: ReadonlySet<string>, role: PartyRole, binding: string): boolean {
  return held.has(`${role}:${binding}`) || held.has(binding);
}

/** ChannelError code: a party is not in the directory as they were (the request is refused). */
export const PARTY_CHANGED = 'party_changed';

function partyChanged(role: string, personId: string, channel: string): ChannelError {
  return new ChannelError(
    `a party of this request (${role === 'owner' ? "the agent's owner" : 'who requested it, is acted for or overrode a refusal'}: "${personId}") is no longer in the directory as they were when it was submitted, so their ${channel} account cannot be recorded and nothing would tell them from a newcomer: the request is refused (submit it again)`,
    false,
    PARTY_CHANGED,
  );
}
