import type { ActionRecord } from '../action.ts';
import type { Caller } from '../keys/key-service.ts';
import { mayRead } from './read.ts';

// Who reads what (SPEC "Who sees what"). The parties of an action (requester, the person it is
// on behalf of, the agent's owner, anyone who could decide it) read it as its approvers see it;
// people holding an audit role read every action, redacted too unless one of their roles is
// configured for unredacted reads.

export interface ReadPolicy {
  /** COUNTERSIGN_AUDIT_ROLES: read every action and export the history. */
  auditRoles: string[];
  /** COUNTERSIGN_AUDIT_UNREDACTED_ROLES: read intents without the rule's redaction. */
  unredactedRoles: string[];
}

export type ReadAccess = { as: 'party' | 'auditor'; unredacted: boolean };

function personRoles(caller: Caller): string[] {
  return caller.principal.kind === 'person' ? caller.principal.roles : [];
}

export function isAuditor(caller: Caller, policy: ReadPolicy): boolean {
  return personRoles(caller).some((r) => policy.auditRoles.includes(r));
}

export function seesUnredacted(caller: Caller, policy: ReadPolicy): boolean {
  return personRoles(caller).some((r) => policy.unredactedRoles.includes(r));
}

/** How `caller` may read `action`, or null: not at all (the caller then gets not_found). */
export function readAccess(action: ActionRecord, caller: Caller, policy: ReadPolicy): ReadAccess | null {
  const unredacted = seesUnredacted(caller, policy);
  if (mayRead(action, caller)) return { as: 'party', unredacted };
  if (isAuditor(caller, policy)) return { as: 'auditor', unredacted };
  return null;
}
