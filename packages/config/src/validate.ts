import type { Directory } from '@countersign/directory';
import type { CompiledPolicy } from '@countersign/policy';

/**
 * Cross-checks between a valid policy and a valid directory that are not errors on their own
 * but almost certainly mistakes: an escalation nobody can approve waits until it expires, an
 * override role nobody holds means the refusal is final. Returned as human-readable warnings
 * (`policy check` prints them; the server logs them on load).
 */
export function validateAgainst(policy: CompiledPolicy, directory: Directory): string[] {
  const warnings: string[] = [];
  // Only people vote or override: roles held by agents do not count here.
  const holders = new Map<string, number>();
  for (const person of directory.people()) for (const role of new Set(person.roles)) holders.set(role, (holders.get(role) ?? 0) + 1);
  const where = (line: number) => `${policy.fileName}:${line}`;

  for (const rule of policy.rules) {
    for (const group of rule.requirement?.groups ?? []) {
      const held = holders.get(group.role) ?? 0;
      if (held === 0) warnings.push(`${where(rule.line)}: rule ${rule.id} needs approvers with role "${group.role}", which nobody in the directory holds`);
      else if (held < group.count) warnings.push(`${where(rule.line)}: rule ${rule.id} needs ${group.count} distinct "${group.role}" approvers but only ${held} people hold that role`);
    }
    const requirement = rule.requirement;
    if (requirement) {
      const needed = requirement.groups.reduce((n, g) => n + g.count, 0);
      const eligible = directory.people().filter((p) => requirement.groups.some((g) => p.roles.includes(g.role))).length;
      // Dual control: every slot needs a distinct person.
      if (eligible > 0 && eligible < needed) warnings.push(`${where(rule.line)}: rule ${rule.id} needs ${needed} distinct approvers but only ${eligible} people hold any of its roles`);
    }
    for (const role of rule.overrideRoles) {
      if (!holders.has(role)) warnings.push(`${where(rule.line)}: rule ${rule.id} lets role "${role}" override, but nobody in the directory holds it`);
    }
    const people = [...(rule.requirement?.channels.people ?? []), ...(rule.requirement?.channels.tiers.flatMap((t) => t.people) ?? [])];
    for (const id of new Set(people)) {
      if (!directory.person(id)) warnings.push(`${where(rule.line)}: rule ${rule.id} asks "${id}", who is not a person in the directory`);
    }
  }
  for (const role of policy.noMatchOverrideRoles) {
    if (!holders.has(role)) warnings.push(`${policy.fileName}: defaults.noMatch lets role "${role}" override, but nobody in the directory holds it`);
  }
  return warnings;
}
