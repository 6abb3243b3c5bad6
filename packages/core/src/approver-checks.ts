import { DomainError, type Person, type VoteDecision } from '@countersign/contracts';
import type { ActionRecord, VoteRecord } from './action.ts';
import { partyMatch } from './party-bindings.ts';
import { describeOpen, fillsOpenSlot, progress, type Approval } from './slots.ts';

// SPEC "Approver checks", steps 3–5, as one pure function: the caller has already
// authenticated the channel (step 1) and mapped it to exactly one directory person (step 2).
// The order matters for the message a reviewer sees: the most fundamental reason first.

export interface VoteCheckInput {
  action: ActionRecord;
  votes: VoteRecord[];
  /** Earlier approvals as they count now, with current roles (see currentApprovals). */
  approvals: Approval[];
  person: Person;
  /**
   * personBinding() of `person`: who they are whatever their directory id. Compared with the
   * action's parties and with earlier votes, so a rename makes nobody someone else.
   */
  binding: string;
  /** Every identity of `person` (personIdentities: email and chat identities), for the parties. */
  identities: readonly string[];
  /**
   * The requesting agent's owner in the directory as it is now (SPEC: the checks run against
   * the directory at vote time), null when the requester is no agent or has left. The owner
   * recorded at submission is refused as well: handing an agent to someone else must not let
   * either of them approve what it asked.
   */
  currentOwnerId: string | null;
  decision: VoteDecision;
  /**
   * `undefined` only in a dry run whose channel asks for the reason once the check passes:
   * the reason checks are then left to the real vote, which always passes a string or null.
   */
  reason: string | null | undefined;
}

export function assertMayVote({ action, votes, approvals, person, binding, identities, currentOwnerId, decision, reason }: VoteCheckInput): void {
  const requirement = action.requirement;
  if (!requirement) {
    throw new DomainError('not_eligible', 'This action was not escalated for approval.');
  }
  if (person.id === action.actorId) {
    throw new DomainError('self_approval', 'You requested this action; someone else must decide it.');
  }
  if (action.onBehalfOf && person.id === action.onBehalfOf) {
    throw new DomainError('self_approval', 'This action is on your behalf; someone else must decide it.');
  }
  const owns = (action.ownerId !== null && person.id === action.ownerId) || (currentOwnerId !== null && person.id === currentOwnerId);
  if (owns && !requirement.ownerMayApprove) {
    throw new DomainError('self_approval', "You own the agent that requested this action; someone else must decide it.");
  }
  // An override lifts a refusal, not the other rules' requirements: whoever lifted it may not
  // also be the approval that carries it through.
  if (action.overriddenBy !== null && person.id === action.overriddenBy && decision === 'approve') {
    throw new DomainError('self_approval', 'You overrode the refusal of this action; someone else must approve it (an override lifts a refusal, not the approvals the rules still require).');
  }
  // The same people by who they are, not by id: renamed in the directory since, the requester,
  // the person it is on behalf of, the owner or the overrider (recorded at the override) is
  // still themselves.
  const parties = partyMatch(action.partyBindings, identities);
  if (parties.party || (parties.owner && !requirement.ownerMayApprove)) {
    throw new DomainError('self_approval', 'You requested this action, it is on your behalf, you own the agent that requested it, or you overrode its refusal (under another directory id); someone else must decide it.');
  }
  // One vote per person: by id, and by who they are (a renamed person voting again).
  if (votes.some((v) => v.personId === person.id || (v.binding != null && v.binding === binding))) {
    throw new DomainError('already_voted', 'You have already voted on this action.');
  }
  const neededRoles = new Set(requirement.groups.map((g) => g.role));
  const relevantRoles = person.roles.filter((r) => neededRoles.has(r));
  if (relevantRoles.length === 0) {
    throw new DomainError('not_eligible', `This action needs ${describeOpen(requirement.groups)}; you hold none of these roles.`);
  }
  if (decision === 'deny') {
    if (reason === null || reason === '') throw new DomainError('reason_required', 'A deny needs a reason.', { issues: [{ field: 'reason', message: 'required when denying' }] });
    return;
  }
  if (requirement.approvalReasonRequired && (reason === null || reason === '')) {
    throw new DomainError('reason_required', 'This rule requires a reason with each approval.', {
      issues: [{ field: 'reason', message: 'required by the rule for approvals' }],
    });
  }
  if (!fillsOpenSlot(requirement.groups, approvals, { personId: person.id, roles: relevantRoles })) {
    const open = progress(requirement.groups, approvals).open;
    throw new DomainError(
      'not_eligible',
      `The slots your roles could fill are already taken; still needed: ${describeOpen(open) || 'nothing'}.`,
    );
  }
}
