import { createHash } from 'node:crypto';
import { emailKey, type Principal } from '@countersign/contracts';

// An API key belongs to one principal — not to an id. Ids get reused: erin leaves, and a year
// later another Erin joins as `erin`; an agent is deleted and a new one takes its name. A key
// records, at creation, a digest of what identifies its principal in the directory, and
// authenticates only while the entry under that id still has it:
//   - a person: their email (the identity the organisation's IdP, Slack and Teams share);
//   - an agent: its owner (the person accountable for it).
// Roles and names are left out on purpose: they change without the principal changing (a role
// revoked stops counting at once anyway, everywhere it is checked). Changing a person's email
// or an agent's owner ends the keys issued before: they are re-issued to the entry as it is now.

// The directory hands out one frozen principal per entry and snapshot: its digest is computed
// once (every API request compares it). A principal that is not frozen is never cached.
const bindings = new WeakMap<Principal, string>();

/** sha256 hex of the principal's stable identity: kind, id and email (people) or owner (agents). */
export function principalBinding(principal: Principal): string {
  const known = bindings.get(principal);
  if (known !== undefined) return known;
  const binding = digestOf(principal);
  if (Object.isFrozen(principal)) bindings.set(principal, binding);
  return binding;
}

function digestOf(principal: Principal): string {
  const anchor = principal.kind === 'person' ? `email:${emailKey(principal.email)}` : `owner:${principal.owner}`;
  return createHash('sha256').update(`countersign-principal-v1\n${principal.kind}\n${principal.id}\n${anchor}`, 'utf8').digest('hex');
}

/**
 * sha256 hex of who a person is, whatever directory id they are under: their email (the
 * identity the IdP, Slack and Teams share). Unlike principalBinding it leaves the id out on
 * purpose: it is what stays the same when the directory renames someone, and what differs when
 * an id is given to someone else. Recorded for the parties of an action at submission and for
 * each voter at vote time (approver-checks.ts, slots.ts), so that a rename never makes a
 * requester an approver, one human never fills two slots, and a reused id never inherits a vote.
 */
export function personBinding(person: { email: string }): string {
  return createHash('sha256').update(`countersign-person-v1\nemail:${emailKey(person.email)}`, 'utf8').digest('hex');
}
