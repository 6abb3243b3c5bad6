import { DomainError, type SealedArtifact } from '@countersign/contracts';
import type { ActionRecord } from '../action.ts';
import { partyEntries, partyMatch, personIdentities } from '../party-bindings.ts';
import type { GateDeps } from './deps.ts';

/**
 * Supervised override (SPEC "Decisions"): a policy refusal may be turned into an approval only
 * by a person holding a role the refusing rules name, with a reason, never by the requester's
 * side, at most once, and only while the policy that refused is still in force; the artifact
 * flags it for review. When escalate rules matched as well,
 * the override only lifts the refusal: the action becomes pending under their requirement.
 */
export async function overrideRefusal(
  deps: GateDeps,
  req: { actionId: string; personId: string; reason: string; keyId?: string },
): Promise<{ action: ActionRecord; artifact: SealedArtifact }> {
  const reason = req.reason.trim();
  if (!reason) {
    throw new DomainError('reason_required', 'An override needs a reason.', { issues: [{ field: 'reason', message: 'required' }] });
  }
  const result = await deps.store.transaction(async (tx) => {
    const action = await tx.lockAction(req.actionId);
    if (!action) return new DomainError('not_found', `No action ${req.actionId}.`);
    if (req.keyId && !(await tx.isKeyActive(req.keyId))) return new DomainError('unauthenticated', 'This API key has been revoked.');
    if (action.status !== 'refused' || action.outcome !== 'refuse' || action.overriddenBy) {
      return new DomainError('not_overridable', 'Only a refusal by policy, not yet overridden, can be overridden.', { extra: { actionStatus: action.status } });
    }
    if (action.overrideRoles.length === 0) {
      return new DomainError('not_overridable', 'The policy names no role that may override this refusal.');
    }
    // Judged only under the rules that refused: overrideRoles were taken from the policy then.
    // Once the policy has changed (the rule made final, its roles narrowed), the refusal is no
    // longer one the rules in force would let anyone lift (review s14 b): the request is
    // submitted again and judged afresh.
    const config = deps.config.current();
    if (config.policy.digest !== action.policyDigest) {
      return new DomainError(
        'not_overridable',
        'The policy has changed since this refusal, so it can no longer be overridden under the rules that made it. Submit the request again to have it judged under the policy in force.',
        { extra: { actionStatus: action.status } },
      );
    }
    const directory = config.directory;
    const person = directory.person(req.personId);
    if (!person) return new DomainError('unknown_identity', 'You are not in the countersign directory.');
    // The agent's owner then (recorded at submission) and now (the directory at override time).
    const currentOwnerId = directory.actorOf(action.actorId)?.owner ?? null;
    // By id, and by the person behind it (recorded at submission): renamed in the directory
    // since, the requester's side is still the requester's side.
    // (The owner too, whatever the rule says of owners approving: lifting a refusal of one's own
    // agent is never an independent act.)
    const identities = personIdentities(directory, person);
    const parties = partyMatch(action.partyBindings, identities);
    if (person.id === action.actorId || person.id === action.onBehalfOf || person.id === action.ownerId || person.id === currentOwnerId || parties.party || parties.owner) {
      return new DomainError('self_approval', 'You cannot override a refusal of your own request.');
    }
    const roles = person.roles.filter((r) => action.overrideRoles.includes(r));
    if (roles.length === 0) {
      return new DomainError('not_eligible', `Overriding this refusal needs one of: ${action.overrideRoles.join(', ')}.`);
    }
    const now = deps.clock.now();
    const overrideEvent = {
      kind: 'action.overridden' as const,
      actionId: action.id,
      intentHash: action.intentHash,
      actionType: action.actionType,
      personId: person.id,
      rolesAtOverride: roles,
      reason,
      previousStatus: 'refused' as const,
      reviewRequired: true as const,
    };
    action.overriddenBy = person.id;
    action.overrideReason = reason;

    // Escalate rules matched too (their requirement was kept with the refusal): the override
    // lifts the refusal, not their requirement. The action goes on to escalation exactly as a
    // submission would — pending, cards, timers — and approves only when they approve.
    const requirement = action.requirement;
    if (requirement) {
      const expiresAt = new Date(now.getTime() + requirement.expiresInSeconds * 1000);
      // The overrider joins the request's parties: they lifted the refusal, so they may not
      // also approve what it hands over to, under this id or a later one.
      const overrider = partyEntries('party', identities);
      await tx.recordOverride(action.id, { personId: person.id, partyEntries: overrider, reason, at: now, escalateUntil: expiresAt });
      Object.assign(action, { status: 'pending', expiresAt, decidedAt: null, decidedBy: null, decisionReason: null, partyBindings: [...(action.partyBindings ?? []), ...overrider] });
      const artifact = await tx.appendArtifact({ ...overrideEvent, status: 'pending', requirement, expiresAt: expiresAt.toISOString() });
      await tx.emit({ type: 'action.escalated', actionId: action.id });
      return { action, artifact };
    }

    await tx.recordOverride(action.id, { personId: person.id, partyEntries: partyEntries('party', identities), reason, at: now });
    action.status = 'approved';
    const artifact = await tx.appendArtifact({ ...overrideEvent, status: 'approved' });
    await tx.publishDecision(action.id);
    await tx.emit({ type: 'action.decided', actionId: action.id, status: 'approved', automatic: false, override: true });
    return { action, artifact };
  });
  if (result instanceof DomainError) throw result;
  return result;
}
