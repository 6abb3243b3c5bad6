import { DomainError, type Person, type VoteDecision } from '@countersign/contracts';
import type { ActionRecord, VoteRecord } from '../action.ts';
import { assertMayVote } from '../approver-checks.ts';
import { personBinding } from '../keys/principal-binding.ts';
import { approverAtMark, approversRecorded, identityBinding, personIdentities, pinnedApprover, UNMATCHED_PREFIX } from '../party-bindings.ts';
import { approverRolesNow, currentApprovals, type Approval } from '../slots.ts';
import type { ConfigView } from '../config-view.ts';
import type { GateDeps } from './deps.ts';
import { isPastExpiry } from './finalize.ts';

// The checks a vote must pass, in one place for the real vote (castVote, inside its
// transaction on the locked row) and for the dry run channels ask before they open a modal
// (checkVote): both read the directory as it is now and the votes as recorded, so the click
// and the submit can only disagree when something changed in between.

export interface VoteCheckRequest {
  actionId: string;
  /** A directory person id, already mapped from the channel identity by the channel. */
  personId: string;
  decision: VoteDecision;
  /**
   * The reason, or `undefined` in a dry run when the channel asks for it only once the check
   * passes (Slack's modal): the checks that need it are left to the real vote.
   */
  reason: string | null | undefined;
  /** The API key the vote came with (API channel): must still be active. */
  keyId?: string;
  /**
   * The chat account that clicked, as `channel:key` (the key personByIdentity maps from): one
   * of the voter's identities even when the directory does not pin it, so a party's account is
   * refused whoever the directory says it is now.
   */
  identity?: string;
}

/** Where the checks read from: the transaction (real vote) or the store (dry run). */
export interface VoteReader {
  votesFor(actionId: string): Promise<VoteRecord[]>;
  isKeyActive?(keyId: string): Promise<boolean>;
}

export interface VoteAllowed {
  action: ActionRecord;
  person: Person;
  /** personBinding(person), recorded with the vote. */
  binding: string;
  votes: VoteRecord[];
  /** Earlier approvals as they count now (current roles). */
  approvals: Approval[];
}

export type VoteCheckOutcome = { allowed: VoteAllowed } | { refused: DomainError; /** The action is past its expiry and still pending. */ expired?: true };

/** Runs the checks on `action` as `reader` sees it; never writes. */
export async function checkVoteOn(
  config: ConfigView,
  reader: VoteReader,
  action: ActionRecord | null,
  req: VoteCheckRequest,
  now: Date,
): Promise<VoteCheckOutcome> {
  if (!action) return { refused: new DomainError('not_found', `No action ${req.actionId}.`) };
  // The expiry timer closed it: say so, as for a vote that arrives just past the expiry.
  if (action.status === 'expired') {
    return { refused: new DomainError('expired', 'This request expired before it was approved; your vote changes nothing.', { extra: { actionStatus: 'expired' } }) };
  }
  if (action.status !== 'pending') {
    return { refused: new DomainError('already_decided', `This action is already ${action.status}; your vote changes nothing.`, { extra: { actionStatus: action.status } }) };
  }
  if (isPastExpiry(action, now)) {
    return { refused: new DomainError('expired', 'This request expired before it was approved; your vote changes nothing.', { extra: { actionStatus: 'expired' } }), expired: true };
  }
  // A key revoked a moment ago in another process must not vote (its cache may lag).
  if (req.keyId && !(await reader.isKeyActive?.(req.keyId))) {
    return { refused: new DomainError('unauthenticated', 'This API key has been revoked.') };
  }
  const directory = config.current().directory;
  const person = directory.person(req.personId);
  if (!person) return { refused: new DomainError('unknown_identity', 'You are not in the countersign directory.') };
  const binding = personBinding(person);
  const identities = personIdentities(directory, person);
  // A party with no account found on a channel (an `unmatched:` mark) may click from one under
  // another email, or be renamed into a role: only people who held a role the rule asks for when
  // the mark was made approve it, from any channel, and on the marked channel only from an
  // account pinned to them then and now (review s15 c, C1; review s16 a, F1: her renamed entry
  // voting through the API). A deny cannot approve anything and is taken from anyone. Refusing
  // every approval stopped Slack approvals of every request whose agent's owner is not in Slack
  // (review s15 c, C3).
  const markedRefusal = req.decision === 'approve' ? unmatchedRefusal(action, binding, identities, req.identity) : null;
  if (req.identity) identities.push(identityBinding(req.identity));
  const votes = await reader.votesFor(action.id);
  const approvals = currentApprovals(votes, approverRolesNow(action, directory));
  try {
    const currentOwnerId = directory.actorOf(action.actorId)?.owner ?? null;
    assertMayVote({ action, votes, approvals, person, binding, identities, currentOwnerId, decision: req.decision, reason: req.reason });
  } catch (err) {
    if (err instanceof DomainError) return { refused: err };
    throw err;
  }
  // After the usual checks, so that someone holding none of the roles is told that first.
  if (markedRefusal) return { refused: markedRefusal };
  return { allowed: { action, person, binding, votes, approvals } };
}

/** What a dry run answers: the vote would be recorded, or the refusal the real vote would give. */
export type VoteCheck = { allowed: true; action: ActionRecord } | { allowed: false; refusal: DomainError };

/**
 * The dry run: exactly what castVote would answer now, without locking or writing anything.
 * Advisory by nature (roles, votes and the clock may change before the real vote, which checks
 * everything again); an expired action is left for the expiry timer to close.
 */
export async function checkVote(deps: GateDeps, req: Omit<VoteCheckRequest, 'keyId'>): Promise<VoteCheck> {
  const outcome = await checkVoteOn(deps.config, deps.store, await deps.store.findAction(req.actionId), req, deps.clock.now());
  return 'refused' in outcome ? { allowed: false, refusal: outcome.refused } : { allowed: true, action: outcome.allowed.action };
}

/**
 * Why an approval of an action with an `unmatched:` mark is refused, or null. `identities` are
 * the voter's as the directory has them now (the clicked account not added yet).
 */
function unmatchedRefusal(action: ActionRecord, binding: string, identities: readonly string[], clickedIdentity: string | undefined): DomainError | null {
  const marked = unmatchedChannels(action);
  if (marked.length === 0) return null;
  const recorded = recordedApprovers(action);
  const where = marked.join(' or ');
  const why = `Someone this request is from or for has no ${where} account countersign could match by email, so only people who held a role it asks for when that was found may approve it`;
  if (!recorded.entries.has(approverAtMark(binding))) {
    const count = recorded.people;
    const none = recorded.stamped
      ? `${why}, and nobody but its parties held one then: it can be denied or left to expire, and submitted again.`
      : `${why}, and none was recorded (the request was marked before countersign recorded them): it can be denied or left to expire, and submitted again.`;
    return new DomainError('forbidden', count > 0 ? `${why}, and you were not one of them: ask one of the ${count} who were (a deny is still taken).` : none);
  }
  const channel = clickedIdentity?.slice(0, clickedIdentity.indexOf(':'));
  if (clickedIdentity === undefined || channel === undefined || !marked.includes(channel)) return null;
  const pinnedThen = identities.includes(identityBinding(clickedIdentity)) && recorded.entries.has(pinnedApprover(channel, clickedIdentity, binding));
  return pinnedThen
    ? null
    : new DomainError(
        'forbidden',
        `${why}, and in ${channel} only from an account the directory pinned to them then, which this one was not: approve it in the console or through the API (a deny is still taken here).`,
      );
}

/** Channels on which a party's account could not be found (the action's `unmatched:` entries). */
function unmatchedChannels(action: ActionRecord): string[] {
  return (action.partyBindings ?? []).filter((e) => e.startsWith(UNMATCHED_PREFIX)).map((e) => e.slice(UNMATCHED_PREFIX.length));
}

// One set per recorded array: "who can still decide" checks every directory person against it.
interface Recorded {
  entries: ReadonlySet<string>;
  /** How many people were recorded (parties left out). */
  people: number;
  /** Whether a snapshot was written at all (its `recorded:` entry), even with nobody in it. */
  stamped: boolean;
}
const approverSets = new WeakMap<readonly string[], Recorded>();
function recordedApprovers(action: ActionRecord): Recorded {
  const list = action.approversAtMark ?? [];
  let found = approverSets.get(list);
  if (!found) {
    found = { entries: new Set(list), people: list.filter((e) => e.startsWith(approverAtMark(''))).length, stamped: list.some((e) => e.startsWith(approversRecorded(''))) };
    approverSets.set(list, found);
  }
  return found;
}
