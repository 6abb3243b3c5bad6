import type { RoleGroup } from '@countersign/contracts';

// The size of a maximum assignment of people to role slots, by trying every assignment. Exponential
// and obviously right: the reference the engine's matching (slots.ts) is checked against.
export function bruteForceMaximum(groups: RoleGroup[], people: { roles: string[] }[]): number {
  const capacity = new Map<string, number>();
  for (const g of groups) capacity.set(g.role, (capacity.get(g.role) ?? 0) + g.count);
  const best = (i: number): number => {
    if (i === people.length) return 0;
    let max = best(i + 1); // this person fills no slot
    for (const role of new Set(people[i]!.roles)) {
      const left = capacity.get(role) ?? 0;
      if (left === 0) continue;
      capacity.set(role, left - 1);
      max = Math.max(max, 1 + best(i + 1));
      capacity.set(role, left);
    }
    return max;
  };
  return best(0);
}

export function slotCount(groups: RoleGroup[]): number {
  return groups.reduce((n, g) => n + g.count, 0);
}
