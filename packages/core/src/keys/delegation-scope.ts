import { DomainError, type Person } from '@countersign/contracts';

// Whom a delegate key may act for: people by id, or everyone holding a role (`role:<role>`).
// Roles are read from the directory at each submission, so removing someone's role (or the
// person) ends the delegation at once, like every other directory-derived right.

const ROLE_PREFIX = 'role:';

/**
 * Parses `alice,role:finance` (the CLI's --for) into scope entries. Empty entries, a bare
 * `role:` and duplicates are refused rather than ignored: a typo must not widen or blur the scope.
 */
export function parseDelegationScope(text: string): string[] {
  const entries = text.split(',').map((s) => s.trim());
  const out: string[] = [];
  for (const e of entries) {
    if (e === '' || e === ROLE_PREFIX) throw new DomainError('invalid_request', `--for has an empty entry in "${text}".`);
    if (!out.includes(e)) out.push(e);
  }
  return out;
}

/** The role an entry names, or undefined for a person id. */
export function scopeRole(entry: string): string | undefined {
  return entry.startsWith(ROLE_PREFIX) ? entry.slice(ROLE_PREFIX.length) : undefined;
}

/** True when `person` is inside `scope`: named by id, or holding a role the scope names. */
export function inDelegationScope(scope: readonly string[], person: Pick<Person, 'id' | 'roles'>): boolean {
  return scope.some((entry) => {
    const role = scopeRole(entry);
    return role === undefined ? entry === person.id : person.roles.includes(role);
  });
}
