import { placesByChannel, RequirementSchema } from '@countersign/contracts';
import type { Requirement } from '@countersign/contracts';

/**
 * Several escalate rules matched: the action must satisfy all of them at once, so the combined
 * requirement is the strictest of each field. Per role the largest count; the shortest expiry;
 * owners may approve only if every rule allows it; a deny ends the request, and a reason is
 * required, if any rule says so; redactions, featured fields and channels are unioned.
 */
export function combineRequirements(requirements: readonly Requirement[]): Requirement {
  const first = requirements[0];
  if (!first) throw new Error('combineRequirements needs at least one requirement');

  const counts = new Map<string, number>();
  for (const req of requirements) {
    for (const g of req.groups) counts.set(g.role, Math.max(counts.get(g.role) ?? 0, g.count));
  }

  const combined: Requirement = {
    groups: [...counts].map(([role, count]) => ({ role, count })),
    expiresInSeconds: Math.min(...requirements.map((r) => r.expiresInSeconds)),
    ownerMayApprove: requirements.every((r) => r.ownerMayApprove),
    denyEndsRequest: requirements.some((r) => r.denyEndsRequest),
    approvalReasonRequired: requirements.some((r) => r.approvalReasonRequired),
    redact: union(requirements.map((r) => r.redact)),
    feature: union(requirements.map((r) => r.feature)),
    channels: {
      ...unionPlaces(requirements),
      people: union(requirements.map((r) => r.channels.people)),
      reminders: union(requirements.map((r) => r.channels.reminders)).sort((a, b) => a - b),
      // Stable sort: tiers at the same time keep rule order.
      tiers: requirements.flatMap((r) => r.channels.tiers).sort((a, b) => a.afterSeconds - b.afterSeconds),
    },
  };
  // evaluate() refuses when matching rules name different executors, so at most one remains.
  const executor = requirements.find((r) => r.executor)?.executor;
  if (executor) combined.executor = executor;
  // The combination of valid requirements is valid by construction; parsing proves it and
  // hands consumers a value that matches the contract exactly.
  return RequirementSchema.parse(combined);
}

/**
 * Roles allowed to override a refusal made by several rules: only those every rule allows.
 * One rule without override roles makes the refusal final.
 */
export function intersectOverrideRoles(roleLists: readonly (readonly string[])[]): string[] {
  const [first, ...rest] = roleLists;
  if (!first) return [];
  return [...new Set(first)].filter((role) => rest.every((roles) => roles.includes(role)));
}

/** Each channel's places across the requirements (a channel any of them names). */
function unionPlaces(requirements: readonly Requirement[]): Record<string, string[]> {
  const byChannel = requirements.map((r) => placesByChannel(r.channels));
  const names = new Set(byChannel.flatMap((p) => Object.keys(p)));
  return Object.fromEntries([...names].map((name) => [name, union(byChannel.map((p) => p[name] ?? []))]));
}

function union<T>(lists: readonly (readonly T[])[]): T[] {
  return [...new Set(lists.flat())];
}
