import { DomainError, type Person } from '@countersign/contracts';
import type { DirectoryView } from '../config-view.ts';
import { personBinding } from './principal-binding.ts';

// Whom a delegate key may act for: people by id, or everyone holding a role (`role:<role>`).
// Roles are read from the directory at each submission, so removing someone's role (or the
// person) ends the delegation at once, like every other directory-derived right. A person named
// by id is bound to who they were when the key was made (their email's digest), as keys are:
// an id the directory later gives to someone else does not hand them the delegation.

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

/** Recorded for a person id of the scope not in the directory when a key is bound: matches nobody. */
export const ABSENT_BINDING = 'absent';

/**
 * `<id>=<personBinding>` for each person id of `scope` (ApiKeyRecord.delegateBindings); an id
 * not in the directory now gets `<id>=absent`, so whoever is given it later is not them.
 */
export function scopeBindings(scope: readonly string[], directory: Pick<DirectoryView, 'person'>): string[] {
  const out: string[] = [];
  for (const entry of scope) {
    if (scopeRole(entry) !== undefined) continue;
    const person = directory.person(entry);
    out.push(`${entry}=${person ? personBinding(person) : ABSENT_BINDING}`);
  }
  return out;
}

/**
 * True when `person` is inside `scope`: named by id (and, when the key recorded who that was,
 * still that person), or holding a role the scope names.
 */
export function inDelegationScope(scope: readonly string[], person: Pick<Person, 'id' | 'roles' | 'email'>, bindings: readonly string[] = []): boolean {
  return scope.some((entry) => {
    const role = scopeRole(entry);
    if (role !== undefined) return person.roles.includes(role);
    if (entry !== person.id) return false;
    const recorded = bindings.filter((b) => b.startsWith(`${entry}=`));
    return recorded.length === 0 || recorded.includes(`${entry}=${personBinding(person)}`);
  });
}
