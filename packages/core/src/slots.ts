import type { RoleGroup } from '@countersign/contracts';
import { personBinding } from './keys/principal-binding.ts';

// Dual control as a matching problem: every slot (one per unit of a group's count) must be
// filled by a distinct person holding its role, and a person fills at most one slot. Greedy
// assignment is wrong ("carol is sre-lead and security, bob is security": carol must take
// sre-lead), so we compute a maximum bipartite matching (Kuhn's algorithm; slots are few).

export interface Approval {
  personId: string;
  roles: string[];
}

export interface SlotProgress {
  filled: number;
  needed: number;
  /** Who fills which role in one maximum assignment. */
  assignment: { personId: string; role: string }[];
  /** Roles whose slots are still open, with how many. */
  open: RoleGroup[];
}

function slotsOf(groups: RoleGroup[]): string[] {
  const slots: string[] = [];
  for (const g of groups) for (let i = 0; i < g.count; i++) slots.push(g.role);
  return slots;
}

export function progress(groups: RoleGroup[], approvals: Approval[]): SlotProgress {
  const slots = slotsOf(groups);
  const slotOwner: (number | undefined)[] = new Array(slots.length).fill(undefined);

  const tryAssign = (p: number, seen: boolean[]): boolean => {
    const roles = approvals[p]!.roles;
    for (let s = 0; s < slots.length; s++) {
      if (seen[s] || !roles.includes(slots[s]!)) continue;
      seen[s] = true;
      const current = slotOwner[s];
      if (current === undefined || tryAssign(current, seen)) {
        slotOwner[s] = p;
        return true;
      }
    }
    return false;
  };
  for (let p = 0; p < approvals.length; p++) tryAssign(p, new Array(slots.length).fill(false));

  const assignment: { personId: string; role: string }[] = [];
  const openCounts = new Map<string, number>();
  slots.forEach((role, s) => {
    const owner = slotOwner[s];
    if (owner === undefined) openCounts.set(role, (openCounts.get(role) ?? 0) + 1);
    else assignment.push({ personId: approvals[owner]!.personId, role });
  });
  return {
    filled: assignment.length,
    needed: slots.length,
    assignment,
    open: [...openCounts].map(([role, count]) => ({ role, count })),
  };
}

/** Whether adding this approval fills a still-open slot (some assignment grows by one). */
export function fillsOpenSlot(groups: RoleGroup[], approvals: Approval[], candidate: Approval): boolean {
  return progress(groups, [...approvals, candidate]).filled > progress(groups, approvals).filled;
}

export function describeOpen(open: RoleGroup[]): string {
  return open.map((g) => (g.count > 1 ? `${g.count} × ${g.role}` : g.role)).join(' + ');
}

/**
 * Approvals as they count now: each earlier approver must still be in the directory, still be
 * the person who voted (the binding recorded with the vote, when there is one), and still hold
 * the role they approved with. A role revoked while the request waits stops counting (fail
 * closed); a role gained later never counts retroactively; an id given to someone else since
 * does not carry the vote over to them.
 */
export function currentApprovals(
  votes: { personId: string; decision: string; roles: string[]; binding?: string | null }[],
  personRoles: (personId: string, binding: string | null) => string[] | undefined,
): Approval[] {
  const out: Approval[] = [];
  for (const v of votes) {
    if (v.decision !== 'approve') continue;
    const roles = personRoles(v.personId, v.binding ?? null);
    if (!roles) continue;
    out.push({ personId: v.personId, roles: v.roles.filter((r) => roles.includes(r)) });
  }
  return out;
}

/**
 * Each earlier approver's roles as they count now for an action: their directory roles, and
 * none once they have become the requesting agent's owner (unless the rule lets owners
 * approve), or once the entry under their id is someone else (its binding is not the one
 * recorded with the vote; a vote from before bindings has none and is judged by id as before):
 * an approval counts only from the person who gave it, while they may still approve it.
 */
export function approverRolesNow(
  action: { actorId: string; requirement: { ownerMayApprove?: boolean } | null },
  directory: { person(id: string): { roles: string[]; email: string } | undefined; actorOf(id: string): { owner: string | null } | undefined },
): (personId: string, binding: string | null) => string[] | undefined {
  const owner = action.requirement?.ownerMayApprove ? null : (directory.actorOf(action.actorId)?.owner ?? null);
  const ownerPerson = owner === null ? undefined : directory.person(owner);
  const ownerBinding = ownerPerson ? personBinding(ownerPerson) : null;
  return (id, binding) => {
    if (id === owner) return undefined;
    const person = directory.person(id);
    if (!person) return undefined;
    if (binding !== null) {
      if (binding !== personBinding(person)) return undefined;
      if (binding === ownerBinding) return undefined;
    }
    return person.roles;
  };
}
