import { createHash } from 'node:crypto';
import type { DirectoryView } from './config-view.ts';
import { personBinding } from './keys/principal-binding.ts';

// Who may not decide an action because of who they are, recorded as digests of the person
// rather than their directory id (ids get renamed and reused while a request waits). A person
// is all of: their email and each chat identity they click with (a Slack user id, a Teams
// object id). Email alone was not enough: renamed with a new mailbox but the same Slack
// account, a requester became a stranger and approved her own request (review s14 c).
//
// Each entry of Action.partyBindings says why: `party:` (the requester, the person acted for,
// an overrider) may never vote; `owner:` (the requesting agent's owner) may not unless the rule
// says ownerMayApprove. An untagged entry (written before the tags) counts as a party.

export type PartyRole = 'party' | 'owner';

/** Digests of every identity of `person`: their email, then each chat identity. */
export function personIdentities(directory: Pick<DirectoryView, 'identitiesOf'>, person: { id: string; email: string }): string[] {
  return [personBinding(person), ...(directory.identitiesOf?.(person.id) ?? []).map(identityBinding)];
}

/** sha256 hex of one chat identity (`channel:key`), never the identity itself. */
export function identityBinding(identity: string): string {
  return createHash('sha256').update(`countersign-identity-v1\n${identity}`, 'utf8').digest('hex');
}

/**
 * Entry of Action.partyBindings: a party has no account on `channel` that could be found (by
 * their email); they may have one under another email, so only accounts the directory pins to
 * the voter decide the request there (check-vote.ts).
 */
export const UNMATCHED_PREFIX = 'unmatched:';
export const unmatchedParty = (channel: string): string => `${UNMATCHED_PREFIX}${channel}`;

/**
 * Entry of Action.approversAtMark: the person with email digest `binding` held a role the
 * requirement asks for when the request was marked unmatched. Only they approve it, from any
 * channel: someone renamed into a role since may be the party whose account was not found
 * (review s16 a, F1: her renamed entry voting through the API).
 */
export const approverAtMark = (binding: string): string => `person:${binding}`;

/** Entry of Action.approversAtMark written with every snapshot: recorded, even with nobody in it. */
export const approversRecorded = (channel: string): string => `recorded:${channel}`;

/**
 * Entry of Action.approversAtMark: the directory pinned chat account `identity` (`slack:U…`) to
 * the person with email digest `binding` when the request was marked unmatched on `channel`.
 * Only such accounts approve it there: a pin added later (an administrator pinning a renamed
 * requester's own account to her new entry, review s15 c, C1) is not one of them.
 */
export function pinnedApprover(channel: string, identity: string, binding: string): string {
  return `pin:${channel}:${createHash('sha256').update(`countersign-pin-v1\n${identityBinding(identity)}\n${binding}`, 'utf8').digest('hex')}`;
}

/** `bindings` as entries of Action.partyBindings, for `role`. */
export function partyEntries(role: PartyRole, bindings: readonly string[]): string[] {
  return bindings.map((b) => `${role}:${b}`);
}

/**
 * The action's parties by directory id, with their role: the requester when a person, the person
 * acted for, the agent's owner, and whoever overrode a refusal. (The queue records their chat
 * accounts before it posts a card: see ApprovalChannel.accountOf.)
 */
export function partiesOf(action: {
  actorKind: 'person' | 'agent';
  actorId: string;
  onBehalfOf: string | null;
  ownerId: string | null;
  overriddenBy: string | null;
}): Array<{ role: PartyRole; personId: string }> {
  const out: Array<{ role: PartyRole; personId: string }> = [];
  if (action.actorKind === 'person') out.push({ role: 'party', personId: action.actorId });
  if (action.onBehalfOf) out.push({ role: 'party', personId: action.onBehalfOf });
  if (action.overriddenBy) out.push({ role: 'party', personId: action.overriddenBy });
  if (action.ownerId) out.push({ role: 'owner', personId: action.ownerId });
  return out;
}

/** Whether any of a person's identities is one of the action's parties, and in which role. */
export function partyMatch(entries: readonly string[] | undefined, bindings: readonly string[]): { party: boolean; owner: boolean } {
  const found = { party: false, owner: false };
  const mine = new Set(bindings);
  for (const entry of entries ?? []) {
    const at = entry.indexOf(':');
    const role = at === -1 ? 'party' : entry.slice(0, at);
    const binding = at === -1 ? entry : entry.slice(at + 1);
    if (!mine.has(binding)) continue;
    if (role === 'owner') found.owner = true;
    else found.party = true;
  }
  return found;
}
